package dev.users.adapter.grpc;

import dev.users.application.port.CallScope;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Carries the call's deadline and cancellation to the code below gRPC, which must not know it: a
 * {@link CallScope} made from the call's {@link Context}, bound to the thread for the length of
 * each callback (so of the service method, and of the callbacks of streaming calls), and ended
 * when the Context is cancelled: by the client, at the deadline, or when the call is over.
 */
final class CallScopeInterceptor implements ServerInterceptor {

  /** Ending a scope only flags it; CallScope's actions hand blocking work to threads of their own. */
  private static final Executor IN_CANCELLING_THREAD = Runnable::run;

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    var context = Context.current();
    var deadline = context.getDeadline();
    var scope = deadline == null
        ? CallScope.withoutDeadline()
        : CallScope.withDeadline(Duration.ofNanos(deadline.timeRemaining(TimeUnit.NANOSECONDS)));
    context.addListener(cancelled -> end(scope, cancelled, deadline), IN_CANCELLING_THREAD);
    return new ScopedListener<>(scope.call(() -> next.startCall(call, headers)), scope);
  }

  /**
   * The client cancels a call at its deadline too, and its cancel may arrive before the server's
   * own timer fires: a call past its deadline has expired whichever came first.
   */
  private static void end(CallScope scope, Context cancelled, Deadline deadline) {
    if (cancelled.cancellationCause() instanceof TimeoutException || deadline != null && deadline.isExpired()) {
      scope.expire();
    } else {
      scope.cancel();
    }
  }

  private static final class ScopedListener<Q> extends SimpleForwardingServerCallListener<Q> {

    private final CallScope scope;

    ScopedListener(ServerCall.Listener<Q> listener, CallScope scope) {
      super(listener);
      this.scope = scope;
    }

    @Override
    public void onMessage(Q message) {
      scope.run(() -> super.onMessage(message));
    }

    @Override
    public void onHalfClose() {
      scope.run(super::onHalfClose);
    }

    @Override
    public void onReady() {
      scope.run(super::onReady);
    }

    @Override
    public void onCancel() {
      scope.run(super::onCancel);
    }

    @Override
    public void onComplete() {
      scope.run(super::onComplete);
    }
  }
}
