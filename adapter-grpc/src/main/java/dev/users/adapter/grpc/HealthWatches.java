package dev.users.adapter.grpc;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Keeps hold of the open {@code grpc.health.v1.Health/Watch} streams so that shutdown can end
 * them. A watch never finishes by itself; left open, it would keep a graceful shutdown waiting the
 * whole grace period after the last real call is done.
 */
public final class HealthWatches implements ServerInterceptor {

  private static final String WATCH = HealthGrpc.getWatchMethod().getFullMethodName();
  private static final Status SHUTTING_DOWN = Status.UNAVAILABLE.withDescription("server is shutting down");

  private final Set<SerializedServerCall<?, ?>> open = new HashSet<>(); // guarded by this
  private boolean ended; // guarded by this

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (!call.getMethodDescriptor().getFullMethodName().equals(WATCH)) {
      return next.startCall(call, headers);
    }
    var watch = new SerializedServerCall<>(call);
    synchronized (this) {
      if (ended) {
        watch.close(SHUTTING_DOWN, new Metadata());
        return new ServerCall.Listener<>() {};
      }
      open.add(watch);
    }
    return new SimpleForwardingServerCallListener<>(next.startCall(watch, headers)) {
      @Override
      public void onComplete() {
        forget(watch);
        super.onComplete();
      }

      @Override
      public void onCancel() {
        forget(watch);
        super.onCancel();
      }
    };
  }

  /** Closes every open watch with UNAVAILABLE, and any that starts from now on. */
  public void endAll() {
    List<SerializedServerCall<?, ?>> ending;
    synchronized (this) {
      ended = true;
      ending = List.copyOf(open);
      open.clear();
    }
    ending.forEach(watch -> watch.close(SHUTTING_DOWN, new Metadata()));
  }

  private synchronized void forget(SerializedServerCall<?, ?> watch) {
    open.remove(watch);
  }
}
