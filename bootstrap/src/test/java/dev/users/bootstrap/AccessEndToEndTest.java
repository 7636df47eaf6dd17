package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.FieldMask;
import dev.users.adapter.grpc.TestTokens;
import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.DeleteUserRequest;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.User;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Who may call what, through the assembled service as production runs it: over TLS on a real
 * socket, with a client certificate required and bearer JWTs; every RPC for every kind of caller,
 * each answered with the status of the scope table.
 */
class AccessEndToEndTest {

  private static final TestTokens ISSUER = TestTokens.withKey("key-1");
  private static final TestPki.Authority SERVER_CA = TestPki.Authority.named("server CA");
  private static final TestPki.Authority CLIENT_CA = TestPki.Authority.named("client CA");
  private static final AtomicInteger EMAILS = new AtomicInteger();

  @TempDir
  static Path dir;

  private static UsersServer server;
  private static ManagedChannel channel;

  @BeforeAll
  static void startServer() {
    var certificate = dir.resolve("server.pem");
    var key = dir.resolve("server.key");
    SERVER_CA.server("users-service").writeTo(certificate, key);
    var clientCas = dir.resolve("client-ca.pem");
    TestPki.replace(clientCas, CLIENT_CA.certificatePem());
    server = UsersServer.start(Config.from(Map.ofEntries(
        Map.entry("USERS_ENV", "production"),
        Map.entry("USERS_STORAGE", "memory"),
        Map.entry("USERS_GRPC_PORT", "0"),
        Map.entry("USERS_TLS_CERT_FILE", certificate.toString()),
        Map.entry("USERS_TLS_KEY_FILE", key.toString()),
        Map.entry("USERS_TLS_CLIENT_AUTH", "require"),
        Map.entry("USERS_TLS_CLIENT_CA_FILE", clientCas.toString()),
        // USERS_AUTH is jwt by default in production.
        Map.entry("USERS_AUTH_JWKS_FILE", ISSUER.writeJwks(dir.resolve("jwks.json")).toString()),
        Map.entry("USERS_AUTH_ISSUER", TestTokens.ISSUER),
        Map.entry("USERS_AUTH_AUDIENCE", TestTokens.AUDIENCE))));
    var client = CLIENT_CA.client("users-client");
    ChannelCredentials credentials;
    try {
      credentials = TlsChannelCredentials.newBuilder()
          .trustManager(pem(SERVER_CA.certificatePem()))
          .keyManager(pem(client.certificatePem()), pem(client.keyPem()))
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    channel = Grpc.newChannelBuilderForAddress("localhost", server.port(), credentials).build();
  }

  private static InputStream pem(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII));
  }

  @AfterAll
  static void stopServer() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.stop();
  }

  /** Callers, by what their token says; each acts on a user of its own, made for the call. */
  enum Who {
    ADMIN, READ, WRITE,
    /** A token whose sub is the id of the user acted on, without scopes. */
    SELF,
    /** A token whose sub is another user's id, without scopes. */
    OTHER,
    /** No authorization metadata. */
    NONE;

    UserServiceGrpc.UserServiceBlockingStub stub(User target) {
      var token = switch (this) {
        case ADMIN -> ISSUER.token("ops", "users.admin");
        case READ -> ISSUER.token("reporting", "users.read");
        case WRITE -> ISSUER.token("signup", "users.write");
        case SELF -> ISSUER.token(target.getId());
        case OTHER -> ISSUER.token(UUID.randomUUID().toString());
        case NONE -> null;
      };
      var stub = UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      return token == null ? stub : stub.withInterceptors(bearer(token.sign()));
    }
  }

  enum Rpc {
    CREATE_USER, GET_USER, UPDATE_USER, DELETE_USER, LIST_USERS, IMPORT_USERS;

    void call(UserServiceGrpc.UserServiceBlockingStub stub, User target) throws Exception {
      switch (this) {
        case CREATE_USER -> stub.createUser(CreateUserRequest.newBuilder()
            .setEmail(freshEmail()).setDisplayName("New").build());
        case GET_USER -> stub.getUser(GetUserRequest.newBuilder().setId(target.getId()).build());
        case UPDATE_USER -> stub.updateUser(UpdateUserRequest.newBuilder()
            .setUser(User.newBuilder().setId(target.getId()).setDisplayName("Renamed"))
            .setUpdateMask(FieldMask.newBuilder().addPaths("display_name"))
            .build());
        case DELETE_USER -> stub.deleteUser(DeleteUserRequest.newBuilder().setId(target.getId()).build());
        case LIST_USERS -> stub.listUsers(ListUsersRequest.newBuilder().setPageSize(5).build()).forEachRemaining(page -> { });
        case IMPORT_USERS -> importOne(stub);
      }
    }
  }

  @ParameterizedTest(name = "{0}: admin {1}, read {2}, write {3}, self {4}, other {5}, no token {6}")
  @CsvSource(delimiter = '|', value = {
      // RPC       | ADMIN | READ              | WRITE             | SELF              | OTHER             | NONE
      "CREATE_USER | OK    | PERMISSION_DENIED | OK                | PERMISSION_DENIED | PERMISSION_DENIED | UNAUTHENTICATED",
      "GET_USER    | OK    | OK                | PERMISSION_DENIED | OK                | NOT_FOUND         | UNAUTHENTICATED",
      "UPDATE_USER | OK    | PERMISSION_DENIED | OK                | OK                | NOT_FOUND         | UNAUTHENTICATED",
      "DELETE_USER | OK    | PERMISSION_DENIED | OK                | PERMISSION_DENIED | PERMISSION_DENIED | UNAUTHENTICATED",
      "LIST_USERS  | OK    | OK                | PERMISSION_DENIED | PERMISSION_DENIED | PERMISSION_DENIED | UNAUTHENTICATED",
      "IMPORT_USERS| OK    | PERMISSION_DENIED | PERMISSION_DENIED | PERMISSION_DENIED | PERMISSION_DENIED | UNAUTHENTICATED",
  })
  void eachCallerGetsTheAnswerOfTheScopeTable(Rpc rpc, Status.Code admin, Status.Code read, Status.Code write,
      Status.Code self, Status.Code other, Status.Code none) throws Exception {
    var expected = new LinkedHashMap<Who, Status.Code>();
    var answered = new LinkedHashMap<Who, Status.Code>();
    var codes = new Status.Code[] {admin, read, write, self, other, none};
    for (var who : Who.values()) {
      expected.put(who, codes[who.ordinal()]);
      var target = createdByAdmin();
      answered.put(who, statusOf(() -> rpc.call(who.stub(target), target)));
    }

    assertThat(answered).isEqualTo(expected);
  }

  @Test
  void aUserMayNotChangeTheirOwnEmail() {
    var target = createdByAdmin();

    var failure = catchThrowableOfType(StatusRuntimeException.class, () -> Who.SELF.stub(target)
        .updateUser(UpdateUserRequest.newBuilder()
            .setUser(User.newBuilder().setId(target.getId()).setEmail(freshEmail()))
            .setUpdateMask(FieldMask.newBuilder().addPaths("email"))
            .build()));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(Who.ADMIN.stub(target).getUser(GetUserRequest.newBuilder().setId(target.getId()).build())
        .getUser().getEmail()).isEqualTo(target.getEmail());
  }

  @Test
  void anotherUsersRecordIsNotFoundByteForByteLikeAnIdNobodyHas() {
    var target = createdByAdmin();
    var get = GetUserRequest.newBuilder().setId(target.getId()).build();
    var update = UpdateUserRequest.newBuilder()
        .setUser(User.newBuilder().setId(target.getId()).setDisplayName("Renamed"))
        .setUpdateMask(FieldMask.newBuilder().addPaths("display_name"))
        .build();
    var someoneElse = Who.OTHER.stub(target);
    var hiddenGet = catchThrowableOfType(StatusRuntimeException.class, () -> someoneElse.getUser(get));
    var hiddenUpdate = catchThrowableOfType(StatusRuntimeException.class, () -> someoneElse.updateUser(update));

    var admin = Who.ADMIN.stub(target);
    admin.deleteUser(DeleteUserRequest.newBuilder().setId(target.getId()).build());
    var absentGet = catchThrowableOfType(StatusRuntimeException.class, () -> admin.getUser(get));
    var absentUpdate = catchThrowableOfType(StatusRuntimeException.class, () -> admin.updateUser(update));

    assertThat(absentGet.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(StatusProto.fromThrowable(hiddenGet).toByteArray())
        .isEqualTo(StatusProto.fromThrowable(absentGet).toByteArray());
    assertThat(hiddenGet.getStatus().getDescription()).isEqualTo(absentGet.getStatus().getDescription());
    assertThat(StatusProto.fromThrowable(hiddenUpdate).toByteArray())
        .isEqualTo(StatusProto.fromThrowable(absentUpdate).toByteArray());
  }

  @Test
  void healthNeedsNoToken() {
    var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(UserServiceGrpc.SERVICE_NAME).build());

    assertThat(health.getStatus()).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void reflectionNeedsNoTokenWhereItIsServed(@TempDir Path keys) throws Exception {
    var development = UsersServer.start(Config.from(Map.of(
        "USERS_STORAGE", "memory",
        "USERS_GRPC_PORT", "0",
        "USERS_AUTH", "jwt",
        "USERS_AUTH_JWKS_FILE", ISSUER.writeJwks(keys.resolve("jwks.json")).toString(),
        "USERS_AUTH_ISSUER", TestTokens.ISSUER,
        "USERS_AUTH_AUDIENCE", TestTokens.AUDIENCE)));
    var plaintext =
        Grpc.newChannelBuilderForAddress("127.0.0.1", development.port(), InsecureChannelCredentials.create()).build();
    try {
      assertThat(UsersServiceEndToEndTest.reflectedServices(plaintext)).contains(UserServiceGrpc.SERVICE_NAME);
    } finally {
      plaintext.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      development.stop();
    }
  }

  @Test
  void aRotatedKeyIsTrustedAndTheRemovedOneRefusedWithoutARestart(@TempDir Path keys) throws Exception {
    var before = TestTokens.withKey("2026-01");
    var after = TestTokens.withKey("2026-02");
    var jwks = before.writeJwks(keys.resolve("jwks.json"));
    var rotating = UsersServer.start(Config.from(Map.of(
        "USERS_STORAGE", "memory",
        "USERS_GRPC_PORT", "0",
        "USERS_AUTH", "jwt",
        "USERS_AUTH_JWKS_FILE", jwks.toString(),
        "USERS_AUTH_ISSUER", TestTokens.ISSUER,
        "USERS_AUTH_AUDIENCE", TestTokens.AUDIENCE,
        "USERS_AUTH_JWKS_RELOAD_INTERVAL", "1s")));
    var rotatingChannel =
        Grpc.newChannelBuilderForAddress("127.0.0.1", rotating.port(), InsecureChannelCredentials.create()).build();
    var list = ListUsersRequest.newBuilder().setPageSize(1).build();
    Call withOldKey = () -> UserServiceGrpc.newBlockingStub(rotatingChannel)
        .withInterceptors(bearer(before.token("reporting", "users.read").sign())).listUsers(list).forEachRemaining(page -> { });
    Call withNewKey = () -> UserServiceGrpc.newBlockingStub(rotatingChannel)
        .withInterceptors(bearer(after.token("reporting", "users.read").sign())).listUsers(list).forEachRemaining(page -> { });
    try {
      assertThat(statusOf(withOldKey)).isEqualTo(Status.Code.OK);

      after.writeJwks(jwks);
      long start = System.nanoTime();
      long giveUp = start + TimeUnit.SECONDS.toNanos(10);
      while (statusOf(withNewKey) != Status.Code.OK && System.nanoTime() < giveUp) {
        Thread.sleep(100);
      }
      System.out.printf("the new key was trusted %d ms after the JWKS file was replaced%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));

      assertThat(statusOf(withNewKey)).isEqualTo(Status.Code.OK);
      assertThat(statusOf(withOldKey)).isEqualTo(Status.Code.UNAUTHENTICATED);
    } finally {
      rotatingChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      rotating.stop();
    }
  }

  private static User createdByAdmin() {
    return UserServiceGrpc.newBlockingStub(channel)
        .withInterceptors(bearer(ISSUER.token("ops", "users.admin").sign()))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .createUser(CreateUserRequest.newBuilder().setEmail(freshEmail()).setDisplayName("Target").build())
        .getUser();
  }

  private static String freshEmail() {
    return "user" + EMAILS.incrementAndGet() + "@example.org";
  }

  private interface Call {
    void run() throws Exception;
  }

  private static Status.Code statusOf(Call call) throws Exception {
    try {
      call.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  /** One item through the streaming ImportUsers, with the blocking stub's channel and metadata. */
  private static void importOne(UserServiceGrpc.UserServiceBlockingStub blocking) throws Exception {
    // The blocking stub's channel carries its interceptors, the bearer token among them.
    var stub = UserServiceGrpc.newStub(blocking.getChannel()).withDeadline(blocking.getCallOptions().getDeadline());
    var result = new CompletableFuture<ImportUsersResponse>();
    var requests = stub.importUsers(new StreamObserver<>() {
      @Override
      public void onNext(ImportUsersResponse response) {
        result.complete(response);
      }

      @Override
      public void onError(Throwable error) {
        result.completeExceptionally(error);
      }

      @Override
      public void onCompleted() {}
    });
    requests.onNext(ImportUsersRequest.newBuilder().setEmail(freshEmail()).setDisplayName("Imported").build());
    requests.onCompleted();
    try {
      assertThat(result.get(10, TimeUnit.SECONDS).getCreatedCount()).isEqualTo(1);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  private static ClientInterceptor bearer(String token) {
    var metadata = new Metadata();
    metadata.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return MetadataUtils.newAttachHeadersInterceptor(metadata);
  }
}
