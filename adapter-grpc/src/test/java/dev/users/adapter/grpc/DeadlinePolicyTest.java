package dev.users.adapter.grpc;

import static dev.users.adapter.grpc.StatusDetails.badRequestFields;
import static dev.users.adapter.grpc.StatusDetails.failureOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.UserServiceGrpc;
import dev.users.application.importing.ImportOutcome;
import dev.users.application.port.CallScope;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The users API's deadline policy: per-kind defaults, a cap, strict mode, and other services left alone. */
class DeadlinePolicyTest {

  private static final GetUserRequest GET_USER = GetUserRequest.newBuilder().setId(TestUsers.ID).build();
  private static final Duration UNARY = Duration.ofSeconds(30);
  private static final Duration STREAM = Duration.ofMinutes(20);

  @RegisterExtension
  final InProcessUserService service = new InProcessUserService();

  private final AtomicReference<Optional<Duration>> remainingSeen = new AtomicReference<>();

  @Test
  void aUnaryCallSentWithoutDeadlineGetsTheUnaryDefault() {
    service.withDeadlines(new DeadlinePolicy(UNARY, STREAM, Optional.empty(), false)).onGet((caller, query) -> {
      remainingSeen.set(CallScope.current().timeRemaining());
      return TestUsers.aUser().build();
    });

    service.blockingStub().getUser(GET_USER);

    assertThat(remainingSeen.get()).hasValueSatisfying(remaining ->
        assertThat(remaining).isLessThanOrEqualTo(UNARY).isGreaterThan(UNARY.minusSeconds(10)));
  }

  @Test
  void aListingSentWithoutDeadlineGetsTheStreamDefault() {
    service.withDeadlines(new DeadlinePolicy(UNARY, STREAM, Optional.empty(), false)).onList((caller, query, each) -> {
      remainingSeen.set(CallScope.current().timeRemaining());
      return false;
    });

    service.blockingStub().listUsers(ListUsersRequest.getDefaultInstance()).forEachRemaining(message -> {});

    assertThat(remainingSeen.get()).hasValueSatisfying(remaining ->
        assertThat(remaining).isLessThanOrEqualTo(STREAM).isGreaterThan(STREAM.minusSeconds(10)));
  }

  @Test
  void anImportSentWithoutDeadlineGetsTheStreamDefault() throws Exception {
    service.withDeadlines(new DeadlinePolicy(UNARY, STREAM, Optional.empty(), false)).onImport((caller, items) -> {
      remainingSeen.set(CallScope.current().timeRemaining());
      return items.stream().map(item -> (ImportOutcome) new ImportOutcome.Created(TestUsers.aUser().build())).toList();
    });
    var response = new CompletableFuture<ImportUsersResponse>();

    var requests = service.asyncStub().importUsers(completing(response));
    requests.onNext(ImportUsersRequest.newBuilder().setEmail("ada@example.org").setDisplayName("Ada").build());
    requests.onCompleted();

    assertThat(response.get(10, TimeUnit.SECONDS).getCreatedCount()).isEqualTo(1);
    assertThat(remainingSeen.get()).hasValueSatisfying(remaining ->
        assertThat(remaining).isLessThanOrEqualTo(STREAM).isGreaterThan(STREAM.minusSeconds(10)));
  }

  @Test
  void aDeadlineBeyondTheMaximumIsShortenedToItAndTheCallEndsThere() {
    var max = Duration.ofMillis(200);
    service.withDeadlines(new DeadlinePolicy(UNARY, STREAM, Optional.of(max), false)).onGet((caller, query) -> {
      remainingSeen.set(CallScope.current().timeRemaining());
      Await.cancellationOf(Context.current());
      return TestUsers.aUser().build();
    });

    long start = System.nanoTime();
    var failure = failureOf(() -> service.blockingStub().withDeadlineAfter(1, TimeUnit.HOURS).getUser(GET_USER));
    long took = System.nanoTime() - start;

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(failure.getStatus().getDescription()).contains("the server's maximum of 200 ms");
    assertThat(remainingSeen.get()).hasValueSatisfying(remaining -> assertThat(remaining).isLessThanOrEqualTo(max));
    assertThat(Duration.ofNanos(took)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void aDeadlineWithinTheMaximumIsLeftAsSent() {
    service.withDeadlines(new DeadlinePolicy(UNARY, STREAM, Optional.of(Duration.ofMinutes(1)), false)).onGet((caller, query) -> {
      remainingSeen.set(CallScope.current().timeRemaining());
      return TestUsers.aUser().build();
    });

    service.blockingStub().withDeadlineAfter(5, TimeUnit.SECONDS).getUser(GET_USER);

    assertThat(remainingSeen.get()).hasValueSatisfying(remaining ->
        assertThat(remaining).isLessThanOrEqualTo(Duration.ofSeconds(5)).isGreaterThan(Duration.ofSeconds(1)));
  }

  @Test
  void theMaximumCapsTheDefaultsToo() {
    var policy = new DeadlinePolicy(UNARY, STREAM, Optional.of(Duration.ofMinutes(1)), false);

    assertThat(policy.defaultFor(MethodType.UNARY)).isEqualTo(UNARY);
    assertThat(policy.defaultFor(MethodType.SERVER_STREAMING)).isEqualTo(Duration.ofMinutes(1));
    assertThat(policy.defaultFor(MethodType.CLIENT_STREAMING)).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void aCallWithoutDeadlineIsRefusedWithABadRequestNamingTheDeadlineWhenDeadlinesAreRequired() {
    service.withDeadlines(new DeadlinePolicy(UNARY, STREAM, Optional.empty(), true));

    var failure = failureOf(() -> service.blockingStub().getUser(GET_USER));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(failure.getStatus().getDescription()).contains("deadline");
    assertThat(badRequestFields(failure)).containsExactly("deadline");
  }

  @Test
  void aCallWithADeadlineIsServedWhenDeadlinesAreRequired() {
    service.withDeadlines(new DeadlinePolicy(UNARY, STREAM, Optional.empty(), true))
        .onGet((caller, query) -> TestUsers.aUser().build());

    var response = service.blockingStub().withDeadlineAfter(5, TimeUnit.SECONDS).getUser(GET_USER);

    assertThat(response.getUser().getId()).isEqualTo(TestUsers.ID);
  }

  @Test
  void anotherServiceIsNeitherCutByTheDefaultNorRefusedForLackingADeadline() throws Exception {
    var watch = UserServiceGrpc.getListUsersMethod().toBuilder().setFullMethodName("test.Other/Watch").build();
    service.withDeadlines(new DeadlinePolicy(Duration.ofMillis(100), Duration.ofMillis(100), Optional.empty(), true))
        .alsoServing(ServerServiceDefinition.builder("test.Other")
            .addMethod(watch, ServerCalls.asyncServerStreamingCall((request, responses) -> {
              // Like a health Watch: open until the client goes away.
            }))
            .build());
    var closed = new CompletableFuture<Status>();

    var call = service.channel().newCall(watch, CallOptions.DEFAULT);
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    call.sendMessage(ListUsersRequest.getDefaultInstance());
    call.halfClose();

    assertThatThrownBy(() -> closed.get(500, TimeUnit.MILLISECONDS))
        .as("the call is still open after five times the default deadline")
        .isInstanceOf(TimeoutException.class);
    call.cancel("done", null);
    assertThat(closed.get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
  }

  private static <T> StreamObserver<T> completing(CompletableFuture<T> result) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        result.complete(value);
      }

      @Override
      public void onError(Throwable error) {
        result.completeExceptionally(error);
      }

      @Override
      public void onCompleted() {
        result.completeExceptionally(new AssertionError("completed without a response"));
      }
    };
  }
}
