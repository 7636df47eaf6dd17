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
import org.slf4j.event.Level;

/**
 * Writes one line per call to the logger {@code access}: method, status code and duration, in the
 * message and as the key-value pairs {@code method}, {@code status_code} and {@code duration_ms}
 * that a structured encoder writes as fields; the request id comes with the MDC. Health checks
 * are logged at DEBUG, every other call at INFO: probes call every few seconds, and would drown
 * the calls a reader looks for.
 *
 * <p>The line is written when the call ends, on onComplete or onCancel (grpc-java delivers exactly
 * one of them), rather than when the service closes the call: a call the client cancelled is
 * never closed, and must be logged too.
 */
public final class AccessLogInterceptor implements ServerInterceptor {

  private static final Logger log = LoggerFactory.getLogger("access");
  private static final String HEALTH_SERVICE = "grpc.health.v1.Health";

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
    var method = call.getMethodDescriptor();
    var level = HEALTH_SERVICE.equals(method.getServiceName()) ? Level.DEBUG : Level.INFO;
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    log.atLevel(level)
        .addKeyValue("method", method.getFullMethodName())
        .addKeyValue("status_code", status.getCode().name())
        .addKeyValue("duration_ms", millis)
        .log("{} {} {} ms", method.getFullMethodName(), status.getCode(), millis);
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
