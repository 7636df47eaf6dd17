package dev.users.adapter.grpc;

import static dev.users.adapter.grpc.StatusDetails.failureOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.RetryInfo;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.GetUserResponse;
import dev.users.api.v1.ListUsersRequest;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class InFlightLimitInterceptorTest {

  private static final GetUserRequest GET_USER = GetUserRequest.newBuilder().setId(TestUsers.ID).build();

  private final CountDownLatch entered = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);
  /** Counted once the limiter has seen a call complete, which the client may not wait for. */
  private final Semaphore completed = new Semaphore(0);

  @RegisterExtension
  final InProcessUserService service = new InProcessUserService()
      .withInnermost(new InFlightLimitInterceptor(1))
      .withInnermost(new ServerInterceptor() {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
          return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
            @Override
            public void onComplete() {
              super.onComplete();
              completed.release();
            }
          };
        }
      });

  @Test
  void aUnaryCallBeyondTheLimitIsRefusedAtOnceWithRetryInfoAndAFinishedCallFreesItsPlace() throws Exception {
    var running = startBlockedCall();

    var refused = failureOf(() -> service.blockingStub().withDeadlineAfter(10, TimeUnit.SECONDS).getUser(GET_USER));

    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(StatusDetails.detail(refused, RetryInfo.class).getRetryDelay().getSeconds()).isEqualTo(1);
    release.countDown();
    assertThat(running.get(10, TimeUnit.SECONDS).getUser().getId()).isEqualTo(TestUsers.ID);
    // The refused call and the one that ran.
    assertThat(completed.tryAcquire(2, 10, TimeUnit.SECONDS)).as("both calls completed on the server").isTrue();
    assertThat(service.blockingStub().withDeadlineAfter(10, TimeUnit.SECONDS).getUser(GET_USER).getUser().getId())
        .isEqualTo(TestUsers.ID);
  }

  @Test
  void streamingCallsAreNotCounted() throws Exception {
    service.onList((caller, query, each) -> {
      each.accept(TestUsers.aUser().build());
      return false;
    });
    var running = startBlockedCall();

    var listed = service.blockingStub().withDeadlineAfter(10, TimeUnit.SECONDS)
        .listUsers(ListUsersRequest.getDefaultInstance()).next();

    assertThat(listed.getUsersList()).hasSize(1);
    release.countDown();
    running.get(10, TimeUnit.SECONDS);
  }

  private CompletableFuture<GetUserResponse> startBlockedCall() throws InterruptedException {
    service.onGet((caller, query) -> {
      entered.countDown();
      Await.released(release);
      return TestUsers.aUser().build();
    });
    var response = new CompletableFuture<GetUserResponse>();
    service.asyncStub().withDeadlineAfter(10, TimeUnit.SECONDS).getUser(GET_USER, new StreamObserver<>() {
      @Override
      public void onNext(GetUserResponse value) {
        response.complete(value);
      }

      @Override
      public void onError(Throwable error) {
        response.completeExceptionally(error);
      }

      @Override
      public void onCompleted() {}
    });
    assertThat(entered.await(10, TimeUnit.SECONDS)).as("the first call reached its use case").isTrue();
    return response;
  }
}
