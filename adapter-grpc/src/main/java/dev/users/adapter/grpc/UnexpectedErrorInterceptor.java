package dev.users.adapter.grpc;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.function.UnaryOperator;

/**
 * Answers an exception that escapes the service's code as every RPC answers its failures, through
 * {@link CallFailures} (INTERNAL, logged once, for anything unexpected). Left to itself, grpc-java would cancel the call
 * with UNKNOWN and log the exception through java.util.logging, away from the call's request id.
 */
public final class UnexpectedErrorInterceptor implements ServerInterceptor {

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    var tracked = new CloseTrackingCall<>(call);
    try {
      return new GuardedListener<>(next.startCall(tracked, headers), tracked);
    } catch (RuntimeException e) {
      tracked.fail(e);
      return new ServerCall.Listener<>() {};
    }
  }

  private static final class CloseTrackingCall<Q, R> extends SimpleForwardingServerCall<Q, R> {

    private volatile boolean closed;

    CloseTrackingCall(ServerCall<Q, R> call) {
      super(call);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      closed = true;
      super.close(status, trailers);
    }

    /** Reports the failure, then closes the call unless it has already ended. */
    void fail(RuntimeException error) {
      var failure = CallFailures.report(error, UnaryOperator.identity());
      if (!closed && !isCancelled()) {
        close(failure.getStatus(), failure.getTrailers());
      }
    }
  }

  private static final class GuardedListener<Q> extends SimpleForwardingServerCallListener<Q> {

    private final CloseTrackingCall<Q, ?> call;

    GuardedListener(ServerCall.Listener<Q> listener, CloseTrackingCall<Q, ?> call) {
      super(listener);
      this.call = call;
    }

    @Override
    public void onMessage(Q message) {
      try {
        super.onMessage(message);
      } catch (RuntimeException e) {
        call.fail(e);
      }
    }

    @Override
    public void onHalfClose() {
      try {
        super.onHalfClose();
      } catch (RuntimeException e) {
        call.fail(e);
      }
    }

    @Override
    public void onReady() {
      try {
        super.onReady();
      } catch (RuntimeException e) {
        call.fail(e);
      }
    }

    @Override
    public void onCancel() {
      try {
        super.onCancel();
      } catch (RuntimeException e) {
        call.fail(e);
      }
    }

    @Override
    public void onComplete() {
      try {
        super.onComplete();
      } catch (RuntimeException e) {
        call.fail(e);
      }
    }
  }
}
