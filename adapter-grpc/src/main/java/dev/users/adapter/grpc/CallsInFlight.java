package dev.users.adapter.grpc;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps hold of the calls in flight so that shutdown can end those still running when its grace
 * is over with {@code UNAVAILABLE}, which clients retry on another instance. Left to grpc-java's
 * forced shutdown, their streams would be reset, which clients see as {@code CANCELLED} and do not
 * retry. A call ended this way sends nothing more; its work stops with the call's cancellation.
 */
public final class CallsInFlight implements ServerInterceptor {

  static final Status SHUTTING_DOWN =
      Status.UNAVAILABLE.withDescription("the server is shutting down; retry on another instance");

  private final Set<SerializedServerCall<?, ?>> open = ConcurrentHashMap.newKeySet();

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    var serialized = new SerializedServerCall<>(call);
    open.add(serialized);
    return new SimpleForwardingServerCallListener<>(next.startCall(serialized, headers)) {
      @Override
      public void onComplete() {
        open.remove(serialized);
        super.onComplete();
      }

      @Override
      public void onCancel() {
        open.remove(serialized);
        super.onCancel();
      }
    };
  }

  /**
   * Ends every call in flight with {@code UNAVAILABLE}; meant for after the server stopped taking
   * new calls.
   *
   * @return how many calls it ended
   */
  public int endAll() {
    List<SerializedServerCall<?, ?>> ending = List.copyOf(open);
    ending.forEach(call -> call.close(SHUTTING_DOWN, new Metadata()));
    return ending.size();
  }
}
