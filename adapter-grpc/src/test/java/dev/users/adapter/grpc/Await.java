package dev.users.adapter.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Context;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Bounded waits for fakes that run inside server calls, where checked exceptions cannot go. */
final class Await {

  private Await() {}

  static void released(CountDownLatch latch) {
    try {
      assertThat(latch.await(10, TimeUnit.SECONDS)).as("the latch was released").isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Blocks like a slow query until the call's context is cancelled. */
  static void cancellationOf(Context context) {
    var cancelled = new CountDownLatch(1);
    context.addListener(ignored -> cancelled.countDown(), Runnable::run);
    released(cancelled);
  }
}
