package dev.users.adapter.grpc;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.protobuf.StatusProto;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Refuses a unary call at once, UNAVAILABLE with RetryInfo, while {@code maxInFlight} of them are
 * already running: beyond what storage can serve or queue, a call would only wait (for a
 * connection, until the pool's timeout) to be told the same thing, holding a thread and memory
 * meanwhile.
 *
 * <p>A call holds its place from its start until grpc-java reports it complete or cancelled,
 * which for a cancelled call is after its running callback returned, so work that outlives its
 * deadline still counts. Streaming calls are not counted: a listing or an import holds storage
 * only for one chunk at a time and may wait on a slow client for long, and their number is
 * bounded per connection by the transport.
 */
public final class InFlightLimitInterceptor implements ServerInterceptor {

  private final Semaphore places;

  public InFlightLimitInterceptor(int maxInFlight) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("the in-flight limit must be positive, got " + maxInFlight);
    }
    this.places = new Semaphore(maxInFlight);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (call.getMethodDescriptor().getType() != MethodType.UNARY) {
      return next.startCall(call, headers);
    }
    if (!places.tryAcquire()) {
      var refusal = StatusProto.toStatusRuntimeException(ErrorMapping.unavailable());
      call.close(refusal.getStatus(), refusal.getTrailers());
      return new ServerCall.Listener<>() {};
    }
    var released = new AtomicBoolean();
    Runnable release = () -> {
      if (released.compareAndSet(false, true)) {
        places.release();
      }
    };
    ServerCall.Listener<Q> listener;
    try {
      listener = next.startCall(call, headers);
    } catch (RuntimeException e) {
      release.run();
      throw e;
    }
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          release.run();
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          release.run();
        }
      }
    };
  }
}
