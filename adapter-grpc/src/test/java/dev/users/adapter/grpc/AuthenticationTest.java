package dev.users.adapter.grpc;

import static dev.users.adapter.grpc.StatusDetails.failureOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.application.access.Caller;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The users API over the in-process transport with bearer JWT authentication: refusals are all
 * alike to the caller and told apart in the log; the use cases get the token's caller.
 */
class AuthenticationTest {

  private static final TestTokens ISSUER = TestTokens.withKey("key-1");

  @RegisterExtension
  final InProcessUserService service = new InProcessUserService();

  @RegisterExtension
  final LogCapture failures = LogCapture.of(CallFailures.class);

  @BeforeEach
  void authenticateWithTheIssuersKeys(@TempDir Path dir) throws IOException {
    var keys = JwksFile.load(ISSUER.writeJwks(dir.resolve("jwks.json")));
    service.authenticating(AuthenticationInterceptor.bearer(
        new JwtAuthenticator(keys, TestTokens.ISSUER, TestTokens.AUDIENCE)));
  }

  @Test
  void theUseCaseActsForTheTokensSubjectAndScopes() {
    var seen = new AtomicReference<Caller>();
    service.onGet((caller, query) -> {
      seen.set(caller);
      return TestUsers.aUser().build();
    });

    service.blockingStub()
        .withInterceptors(bearer(ISSUER.token("reporting", "users.read").sign()))
        .getUser(GetUserRequest.newBuilder().setId(TestUsers.ID).build());

    assertThat(seen.get()).isEqualTo(new Caller("reporting", Set.of("users.read")));
  }

  @Test
  void theBearerSchemeIsCaseInsensitive() {
    service.onGet((caller, query) -> TestUsers.aUser().build());
    var metadata = new Metadata();
    metadata.put(AuthenticationInterceptor.AUTHORIZATION, "bearer " + ISSUER.token("reporting", "users.read").sign());

    var user = service.blockingStub()
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata))
        .getUser(GetUserRequest.newBuilder().setId(TestUsers.ID).build());

    assertThat(user.getUser().getId()).isEqualTo(TestUsers.ID);
  }

  @ParameterizedTest(name = "authorization: \"{0}\"")
  @ValueSource(strings = {"", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Bearer expired", "Bearer forged"})
  void everyRefusalIsOneGenericUnauthenticatedAnswerAndTheLogSaysWhich(String authorization) throws Exception {
    var token = switch (authorization) {
      case "Bearer expired" -> "Bearer " + ISSUER.token("reporting", "users.admin")
          .claims(c -> c.expirationTime(new java.util.Date(System.currentTimeMillis() - 120_000))).sign();
      case "Bearer forged" -> "Bearer " + TestTokens.withKey("key-1").token("reporting", "users.admin").sign();
      default -> authorization;
    };
    var metadata = new Metadata();
    if (!token.isEmpty()) {
      metadata.put(AuthenticationInterceptor.AUTHORIZATION, token);
    }

    var failure = failureOf(() -> service.blockingStub()
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata))
        .getUser(GetUserRequest.newBuilder().setId(TestUsers.ID).build()));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(failure.getStatus().getDescription()).isEqualTo("a valid bearer token is required");
    assertThat(StatusProto.fromThrowable(failure).getDetailsList()).isEmpty();
    var line = failures.next().getFormattedMessage();
    assertThat(line).startsWith("authentication refused: ").doesNotContain("\n");
    if (token.length() > "Bearer ".length()) {
      assertThat(line).doesNotContain(token.substring("Bearer ".length()));
    }
  }

  @Test
  void aStreamingCallIsRefusedBeforeItsFirstMessage() throws Exception {
    var result = new CompletableFuture<Status>();
    var requests = service.asyncStub().importUsers(new StreamObserver<ImportUsersResponse>() {
      @Override
      public void onNext(ImportUsersResponse response) {}

      @Override
      public void onError(Throwable error) {
        result.complete(Status.fromThrowable(error));
      }

      @Override
      public void onCompleted() {
        result.complete(Status.OK);
      }
    });

    assertThat(result.get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    requests.onNext(ImportUsersRequest.newBuilder().setEmail("ada@example.org").setDisplayName("Ada").build());
    requests.onCompleted();
  }

  @Test
  void withoutAuthenticationEveryCallerIsAnAdministrator() {
    var seen = new AtomicReference<Caller>();
    service.authenticating(AuthenticationInterceptor.none()).onGet((caller, query) -> {
      seen.set(caller);
      return TestUsers.aUser().build();
    });

    service.blockingStub().getUser(GetUserRequest.newBuilder().setId(TestUsers.ID).build());

    assertThat(seen.get()).isEqualTo(Caller.unauthenticatedAdministrator());
  }

  private static io.grpc.ClientInterceptor bearer(String token) {
    var metadata = new Metadata();
    metadata.put(AuthenticationInterceptor.AUTHORIZATION, "Bearer " + token);
    return MetadataUtils.newAttachHeadersInterceptor(metadata);
  }
}
