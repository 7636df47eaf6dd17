package dev.users.adapter.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
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

/**
 * Gives a call that arrives without a deadline the server's default one, so that no call holds a
 * thread or a database connection for ever. The call's {@link Context} gets the deadline (code
 * that honours Context cancellation stops in time), and the call is closed with
 * DEADLINE_EXCEEDED when it expires: grpc-java does that by itself only for deadlines the client
 * sent.
 */
public final class DefaultDeadlineInterceptor implements ServerInterceptor {

  private static final Executor IN_CANCELLING_THREAD = Runnable::run;

  private final Duration defaultDeadline;
  private final ScheduledExecutorService scheduler;

  /** @param scheduler runs the expiry of deadlines; the close it makes is short and non-blocking */
  public DefaultDeadlineInterceptor(Duration defaultDeadline, ScheduledExecutorService scheduler) {
    if (defaultDeadline.isNegative() || defaultDeadline.isZero()) {
      throw new IllegalArgumentException("the default deadline must be positive, got " + defaultDeadline);
    }
    this.defaultDeadline = defaultDeadline;
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (Context.current().getDeadline() != null) {
      return next.startCall(call, headers);
    }
    var serialized = new SerializedCall<>(call);
    var context = Context.current().withDeadlineAfter(defaultDeadline.toNanos(), TimeUnit.NANOSECONDS, scheduler);
    var expired = Status.DEADLINE_EXCEEDED.withDescription(
        "deadline exceeded: the call took longer than the server's default of " + defaultDeadline.toMillis() + " ms");
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

  /**
   * ServerCall is not thread-safe, and the expiry closes the call from the scheduler's thread
   * while the service may be sending from its own: every outbound operation takes one lock, and
   * those that come after the close are dropped.
   */
  private static final class SerializedCall<Q, R> extends SimpleForwardingServerCall<Q, R> {

    private boolean closed;

    SerializedCall(ServerCall<Q, R> call) {
      super(call);
    }

    @Override
    public synchronized void sendHeaders(Metadata headers) {
      if (!closed) {
        super.sendHeaders(headers);
      }
    }

    @Override
    public synchronized void sendMessage(R message) {
      if (!closed) {
        super.sendMessage(message);
      }
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
      if (!closed) {
        closed = true;
        super.close(status, trailers);
      }
    }
  }
}
