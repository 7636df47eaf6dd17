package dev.users.adapter.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.application.port.CallCancelledException;
import dev.users.application.port.CallScope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CoalescingLoaderTest {

  private static final Duration LONG_WAIT = Duration.ofSeconds(30);

  private final CallScope scopeOfTest = CallScope.withoutDeadline();

  /** Values are their keys in upper case; keys starting with "missing" have none. */
  private static Map<String, String> lookUp(List<String> keys) {
    return keys.stream()
        .filter(key -> !key.startsWith("missing"))
        .collect(Collectors.toMap(Function.identity(), String::toUpperCase));
  }

  @Test
  void aLoneLookupRunsAtOnceInItsCallersThreadAndScope() {
    var seen = new ArrayList<String>();
    var loader = new CoalescingLoader<String, String>(keys -> {
      seen.add(Thread.currentThread().getName() + " " + keys + " " + (CallScope.current() == scopeOfTest));
      return lookUp(keys);
    }, 64, 1, LONG_WAIT, CoalescingLoaderTest::queuedTooLong);

    var found = scopeOfTest.call(() -> loader.load("ada"));

    assertThat(found).contains("ADA");
    assertThat(seen).containsExactly(Thread.currentThread().getName() + " [ada] true");
  }

  @Test
  void lookupsThatArriveWhileABatchRunsShareTheNextBatch() throws Exception {
    var gate = new Gate();
    var batches = new ConcurrentLinkedQueue<List<String>>();
    var loader = new CoalescingLoader<String, String>(keys -> {
      batches.add(keys);
      gate.holdFirst();
      return lookUp(keys);
    }, 64, 1, LONG_WAIT, CoalescingLoaderTest::queuedTooLong);

    var first = inThread(() -> loader.load("first"));
    gate.awaitFirstHeld();
    var others = IntStream.range(0, 10).mapToObj(i -> inThread(() -> loader.load("user-" + i))).toList();
    awaitQueued(others);
    gate.release();

    assertThat(first.get()).contains("FIRST");
    for (int i = 0; i < others.size(); i++) {
      assertThat(others.get(i).get()).contains("USER-" + i);
    }
    assertThat(batches).hasSize(2);
    assertThat(batches).first().isEqualTo(List.of("first"));
    assertThat(batches).last().satisfies(keys -> assertThat(keys)
        .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 10).mapToObj(i -> "user-" + i).toList()));
  }

  @Test
  void aBatchTakesAtMostTheMaximumOfKeysAndTheRestFollowInTheNextOne() throws Exception {
    var gate = new Gate();
    var sizes = new ConcurrentLinkedQueue<Integer>();
    var loader = new CoalescingLoader<String, String>(keys -> {
      sizes.add(keys.size());
      gate.holdFirst();
      return lookUp(keys);
    }, 3, 1, LONG_WAIT, CoalescingLoaderTest::queuedTooLong);

    var first = inThread(() -> loader.load("first"));
    gate.awaitFirstHeld();
    var others = IntStream.range(0, 7).mapToObj(i -> inThread(() -> loader.load("user-" + i))).toList();
    awaitQueued(others);
    gate.release();

    first.get();
    for (int i = 0; i < others.size(); i++) {
      assertThat(others.get(i).get()).contains("USER-" + i);
    }
    assertThat(sizes).containsExactly(1, 3, 3, 1);
  }

  @Test
  void aKeyWithoutAValueIsEmptyForItsCallerOnly() throws Exception {
    var gate = new Gate();
    var loader = new CoalescingLoader<String, String>(keys -> {
      gate.holdFirst();
      return lookUp(keys);
    }, 64, 1, LONG_WAIT, CoalescingLoaderTest::queuedTooLong);

    var first = inThread(() -> loader.load("first"));
    gate.awaitFirstHeld();
    var missing = inThread(() -> loader.load("missing-one"));
    var present = inThread(() -> loader.load("present"));
    awaitQueued(List.of(missing, present));
    gate.release();

    assertThat(first.get()).contains("FIRST");
    assertThat(missing.get()).isEmpty();
    assertThat(present.get()).contains("PRESENT");
  }

  @Test
  void aFailingBatchFailsEachOfItsCallersWithItsFailure() throws Exception {
    var gate = new Gate();
    var failure = new IllegalStateException("connection lost");
    var loader = new CoalescingLoader<String, String>(keys -> {
      gate.holdFirst();
      if (keys.size() > 1) {
        throw failure;
      }
      return lookUp(keys);
    }, 64, 1, LONG_WAIT, CoalescingLoaderTest::queuedTooLong);

    var first = inThread(() -> loader.load("first"));
    gate.awaitFirstHeld();
    var others = IntStream.range(0, 3).mapToObj(i -> inThread(() -> loader.load("user-" + i))).toList();
    awaitQueued(others);
    gate.release();

    assertThat(first.get()).contains("FIRST");
    for (var other : others) {
      assertThatThrownBy(other::get).isInstanceOf(ExecutionException.class).cause().isSameAs(failure);
    }
    assertThat(loader.load("after")).as("the loader serves on after a failed batch").contains("AFTER");
  }

  @Test
  void aQueuedCallerWhoseCallEndsStopsWaitingAtOnce() throws Exception {
    var gate = new Gate();
    var loader = new CoalescingLoader<String, String>(keys -> {
      gate.holdFirst();
      return lookUp(keys);
    }, 64, 1, LONG_WAIT, CoalescingLoaderTest::queuedTooLong);
    var first = inThread(() -> loader.load("first"));
    gate.awaitFirstHeld();
    var scope = CallScope.withoutDeadline();
    var waiting = inThread(() -> scope.call(() -> loader.load("impatient")));
    awaitQueued(List.of(waiting));

    scope.expire();

    assertThatThrownBy(() -> waiting.get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOfSatisfying(CallCancelledException.class, e -> assertThat(e.deadlinePassed()).isTrue());
    assertThat(first).as("the running batch still runs").isNotDone();
    gate.release();
    assertThat(first.get()).contains("FIRST");
  }

  @Test
  void aSharedBatchIsCancelledOnlyOnceEveryOneOfItsCallersIsGone() throws Exception {
    var gate = new Gate();
    var sharedScope = new CompletableFuture<CallScope>();
    var secondBatchHeld = new CountDownLatch(1);
    var releaseSecond = new CountDownLatch(1);
    var loader = new CoalescingLoader<String, String>(keys -> {
      gate.holdFirst();
      if (keys.size() > 1) {
        sharedScope.complete(CallScope.current());
        secondBatchHeld.countDown();
        await(releaseSecond);
      }
      return lookUp(keys);
    }, 64, 1, LONG_WAIT, CoalescingLoaderTest::queuedTooLong);
    var first = inThread(() -> loader.load("first"));
    gate.awaitFirstHeld();
    var scopeA = CallScope.withoutDeadline();
    var scopeB = CallScope.withoutDeadline();
    var a = inThread(() -> scopeA.call(() -> loader.load("a")));
    var b = inThread(() -> scopeB.call(() -> loader.load("b")));
    awaitQueued(List.of(a, b));
    gate.release();
    first.get();
    await(secondBatchHeld);
    var shared = sharedScope.get();

    scopeA.cancel();
    assertThat(shared.isCancelled()).as("one of two callers gone").isFalse();
    scopeB.cancel();
    assertThat(shared.isCancelled()).as("both gone").isTrue();

    releaseSecond.countDown();
    assertThatThrownBy(a::get).cause().isInstanceOf(CallCancelledException.class);
    assertThatThrownBy(b::get).cause().isInstanceOf(CallCancelledException.class);
  }

  @Test
  void manyCallersSomeOfThemCancelledEachGetTheirOwnValueOrTheirCancellation() throws Exception {
    var loader = new CoalescingLoader<String, String>(keys -> {
      if (ThreadLocalRandom.current().nextInt(4) == 0) {
        Thread.yield();
      }
      return lookUp(keys);
    }, 8, 2, LONG_WAIT, CoalescingLoaderTest::queuedTooLong);
    int callers = 64;
    int lookupsEach = 500;
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      var results = new ArrayList<java.util.concurrent.Future<Integer>>();
      for (int c = 0; c < callers; c++) {
        int caller = c;
        results.add(executor.submit(() -> {
          int served = 0;
          for (int i = 0; i < lookupsEach; i++) {
            var key = "caller-" + caller + "-" + i;
            var scope = CallScope.withoutDeadline();
            if (i % 7 == 0) {
              executor.submit(scope::cancel);
            }
            try {
              Optional<String> found = scope.call(() -> loader.load(key));
              assertThat(found).contains(key.toUpperCase());
              served++;
            } catch (CallCancelledException e) {
              assertThat(scope.isCancelled()).isTrue();
            }
          }
          return served;
        }));
      }
      int served = 0;
      for (var result : results) {
        served += result.get(20, TimeUnit.SECONDS);
      }
      assertThat(served).isGreaterThan(callers * lookupsEach * 6 / 7 - 1);
    }
  }

  @Test
  void aLookupQueuedLongerThanTheQueueWaitFailsWhileTheBatchInFrontStillRuns() throws Exception {
    var gate = new Gate();
    var loader = new CoalescingLoader<String, String>(keys -> {
      gate.holdFirst();
      return lookUp(keys);
    }, 64, 1, Duration.ofMillis(200), CoalescingLoaderTest::queuedTooLong);
    var first = inThread(() -> loader.load("first"));
    gate.awaitFirstHeld();

    long start = System.nanoTime();
    var queued = inThread(() -> loader.load("queued"));

    assertThatThrownBy(() -> queued.get(5, TimeUnit.SECONDS)).cause().hasMessage("queued too long");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
    assertThat(first).isNotDone();
    gate.release();
    assertThat(first.get()).contains("FIRST");
    assertThat(loader.load("after")).contains("AFTER");
  }

  private static RuntimeException queuedTooLong() {
    return new IllegalStateException("queued too long");
  }

  private static <T> CompletableFuture<T> inThread(java.util.function.Supplier<T> work) {
    var result = new CompletableFuture<T>();
    Thread.ofPlatform().daemon().start(() -> {
      try {
        result.complete(work.get());
      } catch (Throwable e) {
        result.completeExceptionally(e);
      }
    });
    return result;
  }

  /**
   * Waits until the lookups are queued: their threads park in the loader, and only a queued lookup
   * parks there while the first batch is held.
   */
  private static void awaitQueued(List<? extends CompletableFuture<?>> lookups) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (parkedInLoader() < lookups.size()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("lookups did not queue");
      }
      Thread.sleep(5);
    }
  }

  private static long parkedInLoader() {
    return Thread.getAllStackTraces().entrySet().stream()
        .filter(entry -> entry.getKey().getState() == Thread.State.WAITING
            || entry.getKey().getState() == Thread.State.TIMED_WAITING)
        .filter(entry -> java.util.Arrays.stream(entry.getValue())
            .anyMatch(frame -> frame.getMethodName().equals("awaitTurn")))
        .count();
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new AssertionError("timed out");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Holds the first batch until released; later batches pass. */
  private static final class Gate {

    private final CountDownLatch firstHeld = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile boolean first = true;

    void holdFirst() {
      if (first) {
        first = false;
        firstHeld.countDown();
        await(released);
      }
    }

    void awaitFirstHeld() {
      await(firstHeld);
    }

    void release() {
      released.countDown();
    }
  }
}
