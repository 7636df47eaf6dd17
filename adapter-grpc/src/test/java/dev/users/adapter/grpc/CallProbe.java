package dev.users.adapter.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Tells a test when the server has finished handling a callback of a call. grpc-java runs one
 * call's callbacks one after the other, so once a callback has returned, nothing the service did
 * in it or before it is still running.
 */
final class CallProbe implements ServerInterceptor {

  private final CountDownLatch halfCloseHandled = new CountDownLatch(1);
  private final CountDownLatch cancelHandled = new CountDownLatch(1);
  private volatile CountDownLatch messagesHandled = new CountDownLatch(0);

  /** Lets {@link #awaitMessagesHandled()} wait for {@code count} request messages. */
  CallProbe expectingMessages(int count) {
    messagesHandled = new CountDownLatch(count);
    return this;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
      @Override
      public void onMessage(Q message) {
        try {
          super.onMessage(message);
        } finally {
          messagesHandled.countDown();
        }
      }

      @Override
      public void onHalfClose() {
        try {
          super.onHalfClose();
        } finally {
          halfCloseHandled.countDown();
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          cancelHandled.countDown();
        }
      }
    };
  }

  void awaitHalfCloseHandled() throws InterruptedException {
    assertThat(halfCloseHandled.await(10, TimeUnit.SECONDS)).as("the server handled the half-close").isTrue();
  }

  void awaitCancelHandled() throws InterruptedException {
    assertThat(cancelHandled.await(10, TimeUnit.SECONDS)).as("the server handled the cancellation").isTrue();
  }

  void awaitMessagesHandled() throws InterruptedException {
    assertThat(messagesHandled.await(10, TimeUnit.SECONDS)).as("the server handled the messages").isTrue();
  }
}
