package dev.users.adapter.grpc;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;

/**
 * A call that may be closed from a thread of its own (a deadline's timer, shutdown) while the
 * service sends on it from another: ServerCall is not thread-safe, so every method this wrapper
 * touches takes one lock, and nothing is sent once the call is closed. Its safety does not depend
 * on where it sits among the interceptors.
 */
final class SerializedServerCall<Q, R> extends SimpleForwardingServerCall<Q, R> {

  private boolean closed; // guarded by this

  SerializedServerCall(ServerCall<Q, R> call) {
    super(call);
  }

  @Override
  public synchronized void request(int count) {
    if (!closed) {
      super.request(count);
    }
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

  @Override
  public synchronized boolean isReady() {
    return !closed && super.isReady();
  }

  @Override
  public synchronized void setMessageCompression(boolean enabled) {
    super.setMessageCompression(enabled);
  }

  @Override
  public synchronized void setCompression(String compressor) {
    super.setCompression(compressor);
  }
}
