package dev.users.adapter.grpc;

import dev.users.domain.InvalidInputException;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;

/**
 * Applies the users API's {@link DeadlinePolicy}: a call that arrives without a deadline gets the
 * default of its kind (or is refused when deadlines are required), and one whose deadline is
 * beyond the maximum gets the maximum, so that no call holds a thread or a database connection
 * longer than the server allows. The call's {@link Context} gets the deadline (code that honours
 * Context cancellation stops in time), and the call is closed with DEADLINE_EXCEEDED when it
 * expires: grpc-java does that by itself only for the deadline the client sent.
 */
final class DeadlinePolicyInterceptor implements ServerInterceptor {

  private static final Executor IN_CANCELLING_THREAD = Runnable::run;

  private final DeadlinePolicy policy;
  private final ScheduledExecutorService scheduler;

  /** @param scheduler runs the expiry of deadlines; the close it makes is short and non-blocking */
  DeadlinePolicyInterceptor(DeadlinePolicy policy, ScheduledExecutorService scheduler) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    var requested = Context.current().getDeadline();
    if (requested == null && policy.required()) {
      var refusal = CallFailures.report(
          InvalidInputException.of("deadline", "must be set, as this server refuses calls without one (grpc-timeout)"),
          UnaryOperator.identity());
      call.close(refusal.getStatus(), refusal.getTrailers());
      return new ServerCall.Listener<>() {};
    }
    if (requested == null) {
      var deadline = policy.defaultFor(call.getMethodDescriptor().getType());
      return withDeadline(deadline, "the server's default of " + deadline.toMillis() + " ms", call, headers, next);
    }
    var max = policy.max();
    if (max.isPresent() && requested.timeRemaining(TimeUnit.NANOSECONDS) > max.get().toNanos()) {
      return withDeadline(max.get(), "the server's maximum of " + max.get().toMillis() + " ms", call, headers, next);
    }
    return next.startCall(call, headers);
  }

  private <Q, R> ServerCall.Listener<Q> withDeadline(
      Duration deadline, String limit, ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    var serialized = new SerializedServerCall<>(call);
    var context = Context.current().withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS, scheduler);
    var expired = Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded: the call took longer than " + limit);
    // A TimeoutException is the context's own deadline; other causes mean the call already ended.
    context.addListener(cancelled -> {
      if (cancelled.cancellationCause() instanceof TimeoutException) {
        serialized.close(expired, new Metadata());
      }
    }, IN_CANCELLING_THREAD);
    ServerCall.Listener<Q> listener;
    try {
      listener = Contexts.interceptCall(context, serialized, headers, next);
    } catch (RuntimeException e) {
      context.cancel(e);
      throw e;
    }
    // Cancelling the context once the call ends releases its timer at once instead of at expiry.
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          context.cancel(null);
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          context.cancel(null);
        }
      }
    };
  }
}
