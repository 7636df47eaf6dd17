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
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one INFO line per call to the logger {@code access}: method, status code and duration;
 * the request id comes with the MDC.
 *
 * <p>The line is written when the call ends, on onComplete or onCancel (grpc-java delivers exactly
 * one of them), rather than when the service closes the call: a call the client cancelled is
 * never closed, and must be logged too.
 */
public final class AccessLogInterceptor implements ServerInterceptor {

  private static final Logger log = LoggerFactory.getLogger("access");

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    long start = System.nanoTime();
    var recording = new StatusRecordingCall<>(call);
    return new SimpleForwardingServerCallListener<>(next.startCall(recording, headers)) {
      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          log(call, recording.status, start);
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          var cancellation = Contexts.statusFromCancelled(Context.current());
          log(call, cancellation == null ? Status.CANCELLED : cancellation, start);
        }
      }
    };
  }

  private static void log(ServerCall<?, ?> call, Status status, long start) {
    log.info("{} {} {} ms",
        call.getMethodDescriptor().getFullMethodName(),
        status.getCode(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
  }

  private static final class StatusRecordingCall<Q, R> extends SimpleForwardingServerCall<Q, R> {

    // The default deadline closes calls from a scheduler thread.
    volatile Status status = Status.UNKNOWN;

    StatusRecordingCall(ServerCall<Q, R> call) {
      super(call);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      this.status = status;
      super.close(status, trailers);
    }
  }
}
