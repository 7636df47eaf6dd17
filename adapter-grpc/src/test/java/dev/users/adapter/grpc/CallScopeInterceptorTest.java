package dev.users.adapter.grpc;

import static dev.users.adapter.grpc.StatusDetails.failureOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.UserServiceGrpc;
import dev.users.application.importing.ImportOutcome;
import dev.users.application.port.CallCancelledException;
import dev.users.application.port.CallScope;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The use cases see the call's deadline and cancellation through a CallScope, without gRPC. */
class CallScopeInterceptorTest {

  private static final GetUserRequest GET_USER = GetUserRequest.newBuilder().setId(TestUsers.ID).build();

  @RegisterExtension
  final InProcessUserService service = new InProcessUserService();

  private final AtomicReference<CallScope> scopeSeen = new AtomicReference<>();
  private final CountDownLatch started = new CountDownLatch(1);
  private final CountDownLatch scopeEnded = new CountDownLatch(1);

  @Test
  void theUseCaseSeesTheCallsDeadlineAsTheTimeRemaining() {
    service.onGet((caller, query) -> {
      scopeSeen.set(CallScope.current());
      return TestUsers.aUser().build();
    });

    service.blockingStub().withDeadlineAfter(5, TimeUnit.SECONDS).getUser(GET_USER);

    assertThat(scopeSeen.get().timeRemaining()).hasValueSatisfying(remaining ->
        assertThat(remaining).isLessThanOrEqualTo(Duration.ofSeconds(5)).isGreaterThan(Duration.ofSeconds(1)));
    assertThat(CallScope.current()).isNotSameAs(scopeSeen.get());
  }

  @Test
  void theClientCancellingEndsTheScopeOfItsRunningUseCase() throws Exception {
    service.onGet((caller, query) -> {
      awaitTheEndOfTheScope();
      return TestUsers.aUser().build();
    });

    var answer = UserServiceGrpc.newFutureStub(service.channel()).getUser(GET_USER);
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    answer.cancel(true);

    assertThat(scopeEnded.await(10, TimeUnit.SECONDS)).as("the scope ended").isTrue();
    assertThatThrownBy(scopeSeen.get()::throwIfCancelled)
        .isInstanceOfSatisfying(CallCancelledException.class, e -> assertThat(e.deadlinePassed()).isFalse());
  }

  @Test
  void theDeadlinePassingEndsTheScopeOfItsRunningUseCaseAsExpired() throws Exception {
    service.onGet((caller, query) -> {
      awaitTheEndOfTheScope();
      return TestUsers.aUser().build();
    });

    var failure = failureOf(() -> service.blockingStub().withDeadlineAfter(200, TimeUnit.MILLISECONDS).getUser(GET_USER));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(scopeEnded.await(10, TimeUnit.SECONDS)).as("the scope ended").isTrue();
    assertThatThrownBy(scopeSeen.get()::throwIfCancelled)
        .isInstanceOfSatisfying(CallCancelledException.class, e -> assertThat(e.deadlinePassed()).isTrue());
  }

  @Test
  void everySegmentOfAListingIsReadInTheScopeOfItsCall() {
    var scopes = new CopyOnWriteArrayList<CallScope>();
    var directory = new ListUsersTest.FakeDirectory(TestUsers.directory(5 * UserListing.SEGMENT_SIZE));
    service.onList((caller, query, each) -> {
      scopes.add(CallScope.current());
      return directory.list(caller, query, each);
    });

    service.blockingStub().listUsers(ListUsersRequest.getDefaultInstance()).forEachRemaining(message -> {});

    assertThat(scopes).hasSize(5);
    assertThat(scopes).allSatisfy(scope -> {
      assertThat(scope).isSameAs(scopes.getFirst());
      assertThat(scope.timeRemaining()).isPresent();
    });
  }

  @Test
  void everyBatchOfAnImportIsWrittenInTheScopeOfItsCall() throws Exception {
    var scopes = new CopyOnWriteArrayList<CallScope>();
    service.onImport((caller, items) -> {
      scopes.add(CallScope.current());
      return items.stream().map(item -> (ImportOutcome) new ImportOutcome.Created(TestUsers.aUser().build())).toList();
    });
    var done = new CompletableFuture<Void>();

    var requests = service.asyncStub().importUsers(new StreamObserver<>() {
      @Override
      public void onNext(ImportUsersResponse response) {}

      @Override
      public void onError(Throwable error) {
        done.completeExceptionally(error);
      }

      @Override
      public void onCompleted() {
        done.complete(null);
      }
    });
    for (int i = 0; i < UserImport.BATCH_SIZE + 1; i++) {
      requests.onNext(ImportUsersRequest.newBuilder().setEmail("user" + i + "@example.org").setDisplayName("U").build());
    }
    requests.onCompleted();
    done.get(10, TimeUnit.SECONDS);

    assertThat(scopes).hasSize(2);
    assertThat(scopes).allSatisfy(scope -> {
      assertThat(scope).isSameAs(scopes.getFirst());
      assertThat(scope.timeRemaining()).isPresent();
    });
  }

  @ParameterizedTest
  @CsvSource({"true, DEADLINE_EXCEEDED, the call's deadline passed", "false, CANCELLED, the call was cancelled"})
  void workRefusedBecauseTheCallIsOverAnswersWithTheReason(boolean deadlinePassed, Status.Code code, String message) {
    service.onGet((caller, query) -> {
      throw new CallCancelledException(deadlinePassed, null);
    });

    var failure = failureOf(() -> service.blockingStub().getUser(GET_USER));

    assertThat(failure.getStatus().getCode()).isEqualTo(code);
    assertThat(failure.getStatus().getDescription()).isEqualTo(message);
  }

  /** Blocks like a statement until the call's scope ends, as the storage adapter's cancel would. */
  private void awaitTheEndOfTheScope() {
    var scope = CallScope.current();
    scopeSeen.set(scope);
    var ended = new CountDownLatch(1);
    scope.onCancel(ended::countDown);
    started.countDown();
    Await.released(ended);
    scopeEnded.countDown();
  }
}
