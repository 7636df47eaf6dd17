package dev.users.adapter.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.application.port.CallCancelledException;
import dev.users.application.port.CallScope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CoalescerTest {

  private static final Duration LONG_WAIT = Duration.ofSeconds(30);

  /** Passes a batch's failure to its callers as thrown. */
  private static final BiFunction<RuntimeException, CallScope, RuntimeException> AS_THROWN = (failure, scope) -> failure;

  private final CallScope scopeOfTest = CallScope.withoutDeadline();

  /** Results are their items in upper case; items starting with "missing" have none. */
  private static List<String> upperCase(List<String> items) {
    return items.stream().map(item -> item.startsWith("missing") ? null : item.toUpperCase()).toList();
  }

  @Test
  void aLoneItemOfAVirtualThreadRunsAtOnceInThatThreadAndItsScope() throws Exception {
    var seen = new ConcurrentLinkedQueue<String>();
    var coalescer = new Coalescer<String, String>(items -> {
      seen.add(Thread.currentThread().getName() + " " + items + " " + (CallScope.current() == scopeOfTest));
      return upperCase(items);
    }, 64, 1, LONG_WAIT, CoalescerTest::queuedTooLong, AS_THROWN);

    var caller = Thread.ofVirtual().name("a-call").unstarted(() -> {
      var found = scopeOfTest.call(() -> coalescer.submit("ada"));
      assertThat(found).as("done before submit returns").isCompletedWithValue(Optional.of("ADA"));
    });
    caller.start();
    caller.join();

    assertThat(seen).containsExactly("a-call [ada] true");
  }

  @Test
  void aLoneItemOfAPlatformThreadRunsOnABatchThreadInItsCallersScope() {
    var seen = new ConcurrentLinkedQueue<String>();
    var coalescer = new Coalescer<String, String>(items -> {
      var thread = Thread.currentThread();
      seen.add(thread.getName().replaceAll("\\d+$", "N") + " " + thread.isVirtual() + " " + items + " "
          + (CallScope.current() == scopeOfTest));
      return upperCase(items);
    }, 64, 1, LONG_WAIT, CoalescerTest::queuedTooLong, AS_THROWN);

    var found = scopeOfTest.call(() -> coalescer.apply("ada"));

    assertThat(found).contains("ADA");
    assertThat(seen).containsExactly("storage-batch-N false [ada] true");
  }

  @Test
  void itemsThatArriveWhileABatchRunsShareTheNextBatch() throws Exception {
    var gate = new Gate();
    var batches = new ConcurrentLinkedQueue<List<String>>();
    var coalescer = new Coalescer<String, String>(items -> {
      batches.add(items);
      gate.holdFirst();
      return upperCase(items);
    }, 64, 1, LONG_WAIT, CoalescerTest::queuedTooLong, AS_THROWN);

    var first = gate.holdFirstBatchOf(coalescer);
    var others = IntStream.range(0, 10).mapToObj(i -> inThread(() -> coalescer.apply("user-" + i))).toList();
    awaitQueued(coalescer, others.size());
    gate.release();

    assertThat(first.get()).contains("FIRST");
    for (int i = 0; i < others.size(); i++) {
      assertThat(others.get(i).get()).contains("USER-" + i);
    }
    assertThat(batches).hasSize(2);
    assertThat(batches).first().isEqualTo(List.of("first"));
    assertThat(batches).last().satisfies(items -> assertThat(items)
        .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 10).mapToObj(i -> "user-" + i).toList()));
  }

  @Test
  void aBatchTakesAtMostTheMaximumOfItemsAndTheRestFollowInTheNextOne() throws Exception {
    var gate = new Gate();
    var sizes = new ConcurrentLinkedQueue<Integer>();
    var coalescer = new Coalescer<String, String>(items -> {
      sizes.add(items.size());
      gate.holdFirst();
      return upperCase(items);
    }, 3, 1, LONG_WAIT, CoalescerTest::queuedTooLong, AS_THROWN);

    var first = gate.holdFirstBatchOf(coalescer);
    var others = IntStream.range(0, 7).mapToObj(i -> inThread(() -> coalescer.apply("user-" + i))).toList();
    awaitQueued(coalescer, others.size());
    gate.release();

    first.get();
    for (int i = 0; i < others.size(); i++) {
      assertThat(others.get(i).get()).contains("USER-" + i);
    }
    assertThat(sizes).containsExactly(1, 3, 3, 1);
  }

  @Test
  void anItemWithoutAResultIsEmptyForItsCallerOnly() throws Exception {
    var gate = new Gate();
    var coalescer = new Coalescer<String, String>(items -> {
      gate.holdFirst();
      return upperCase(items);
    }, 64, 1, LONG_WAIT, CoalescerTest::queuedTooLong, AS_THROWN);

    var first = gate.holdFirstBatchOf(coalescer);
    var missing = inThread(() -> coalescer.apply("missing-one"));
    var present = inThread(() -> coalescer.apply("present"));
    awaitQueued(coalescer, 2);
    gate.release();

    assertThat(first.get()).contains("FIRST");
    assertThat(missing.get()).isEmpty();
    assertThat(present.get()).contains("PRESENT");
  }

  @Test
  void theSameItemFromSeveralCallersIsInTheBatchOncePerCallerAndEachGetsTheResultOfItsOwn() throws Exception {
    var gate = new Gate();
    var batches = new ConcurrentLinkedQueue<List<String>>();
    var coalescer = new Coalescer<String, String>(items -> {
      batches.add(items);
      gate.holdFirst();
      return IntStream.range(0, items.size()).mapToObj(i -> items.get(i) + " at " + i).toList();
    }, 64, 1, LONG_WAIT, CoalescerTest::queuedTooLong, AS_THROWN);

    var first = gate.holdFirstBatchOf(coalescer);
    var twins = IntStream.range(0, 3).mapToObj(i -> inThread(() -> coalescer.apply("twin"))).toList();
    awaitQueued(coalescer, twins.size());
    gate.release();

    assertThat(first.get()).contains("first at 0");
    assertThat(twins.stream().map(CompletableFuture::join).toList())
        .containsExactlyInAnyOrder(Optional.of("twin at 0"), Optional.of("twin at 1"), Optional.of("twin at 2"));
    assertThat(batches).last().isEqualTo(List.of("twin", "twin", "twin"));
  }

  @Test
  void aBatchGivingTheWrongNumberOfResultsFailsEachOfItsCallers() throws Exception {
    var gate = new Gate();
    var coalescer = new Coalescer<String, String>(items -> {
      gate.holdFirst();
      return upperCase(items.size() > 1 ? items.subList(1, items.size()) : items);
    }, 64, 1, LONG_WAIT, CoalescerTest::queuedTooLong, AS_THROWN);

    var first = gate.holdFirstBatchOf(coalescer);
    var others = IntStream.range(0, 3).mapToObj(i -> inThread(() -> coalescer.apply("user-" + i))).toList();
    awaitQueued(coalescer, others.size());
    gate.release();

    assertThat(first.get()).contains("FIRST");
    for (var other : others) {
      assertThatThrownBy(() -> other.get(5, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("2 results for a batch of 3");
    }
  }

  @Test
  void aFailingBatchFailsEachOfItsCallersWithItsFailure() throws Exception {
    var gate = new Gate();
    var failure = new IllegalStateException("connection lost");
    var coalescer = new Coalescer<String, String>(items -> {
      gate.holdFirst();
      if (items.size() > 1) {
        throw failure;
      }
      return upperCase(items);
    }, 64, 1, LONG_WAIT, CoalescerTest::queuedTooLong, AS_THROWN);

    var first = gate.holdFirstBatchOf(coalescer);
    var others = IntStream.range(0, 3).mapToObj(i -> inThread(() -> coalescer.apply("user-" + i))).toList();
    awaitQueued(coalescer, others.size());
    gate.release();

    assertThat(first.get()).contains("FIRST");
    for (var other : others) {
      assertThatThrownBy(other::get).isInstanceOf(ExecutionException.class).cause().isSameAs(failure);
    }
    assertThat(coalescer.apply("after")).as("the coalescer serves on after a failed batch").contains("AFTER");
  }

  @Test
  void aQueuedCallerWhoseCallEndsStopsWaitingAtOnce() throws Exception {
    var gate = new Gate();
    var coalescer = new Coalescer<String, String>(items -> {
      gate.holdFirst();
      return upperCase(items);
    }, 64, 1, LONG_WAIT, CoalescerTest::queuedTooLong, AS_THROWN);
    var first = gate.holdFirstBatchOf(coalescer);
    var scope = CallScope.withoutDeadline();
    var waiting = inThread(() -> scope.call(() -> coalescer.apply("impatient")));
    awaitQueued(coalescer, 1);

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
    var coalescer = new Coalescer<String, String>(items -> {
      gate.holdFirst();
      if (items.size() > 1) {
        sharedScope.complete(CallScope.current());
        secondBatchHeld.countDown();
        await(releaseSecond);
      }
      return upperCase(items);
    }, 64, 1, LONG_WAIT, CoalescerTest::queuedTooLong, AS_THROWN);
    var first = gate.holdFirstBatchOf(coalescer);
    var scopeA = CallScope.withoutDeadline();
    var scopeB = CallScope.withoutDeadline();
    var a = inThread(() -> scopeA.call(() -> coalescer.apply("a")));
    var b = inThread(() -> scopeB.call(() -> coalescer.apply("b")));
    awaitQueued(coalescer, 2);
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
  void manyCallersSomeOfThemCancelledEachGetTheirOwnResultOrTheirCancellation() throws Exception {
    var coalescer = new Coalescer<String, String>(items -> {
      if (ThreadLocalRandom.current().nextInt(4) == 0) {
        Thread.yield();
      }
      return upperCase(items);
    }, 8, 2, LONG_WAIT, CoalescerTest::queuedTooLong, AS_THROWN);
    int callers = 64;
    int itemsEach = 500;
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      var results = new ArrayList<java.util.concurrent.Future<Integer>>();
      for (int c = 0; c < callers; c++) {
        int caller = c;
        results.add(executor.submit(() -> {
          int served = 0;
          for (int i = 0; i < itemsEach; i++) {
            var key = "caller-" + caller + "-" + i;
            var scope = CallScope.withoutDeadline();
            if (i % 7 == 0) {
              executor.submit(scope::cancel);
            }
            try {
              Optional<String> found = scope.call(() -> coalescer.apply(key));
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
      assertThat(served).isGreaterThan(callers * itemsEach * 6 / 7 - 1);
    }
  }

  @Test
  void anItemQueuedLongerThanTheQueueWaitFailsWhileTheBatchInFrontStillRuns() throws Exception {
    var gate = new Gate();
    var coalescer = new Coalescer<String, String>(items -> {
      gate.holdFirst();
      return upperCase(items);
    }, 64, 1, Duration.ofMillis(200), CoalescerTest::queuedTooLong, AS_THROWN);
    var first = gate.holdFirstBatchOf(coalescer);

    long start = System.nanoTime();
    var queued = inThread(() -> coalescer.apply("queued"));

    assertThatThrownBy(() -> queued.get(5, TimeUnit.SECONDS)).cause().hasMessage("queued too long");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
    assertThat(first).isNotDone();
    gate.release();
    assertThat(first.get()).contains("FIRST");
    assertThat(coalescer.apply("after")).contains("AFTER");
  }

  @Test
  void aQueuedItemHoldsNoThreadAndCompletesInTheThreadThatRanItsBatch() throws Exception {
    var gate = new Gate();
    var batchThreads = new ConcurrentLinkedQueue<Thread>();
    var coalescer = new Coalescer<String, String>(items -> {
      batchThreads.add(Thread.currentThread());
      gate.holdFirst();
      return upperCase(items);
    }, 64, 1, LONG_WAIT, CoalescerTest::queuedTooLong, AS_THROWN);
    var first = gate.holdFirstBatchOf(coalescer);

    var queued = coalescer.submit("queued");
    var answeredIn = queued.thenApply(result -> Thread.currentThread());

    assertThat(queued).as("returned while the batch in front still runs").isNotDone();
    gate.release();
    // Waited for through the dependent: a thread waiting on `queued` itself may run its dependents
    // once it sees the result, as CompletableFuture lets any observer do.
    var answeringThread = answeredIn.get(5, TimeUnit.SECONDS);
    assertThat(queued.get(5, TimeUnit.SECONDS)).contains("QUEUED");
    assertThat(first.get()).contains("FIRST");
    assertThat(batchThreads).hasSize(2);
    var secondBatchThread = batchThreads.stream().skip(1).findFirst().orElseThrow();
    assertThat(secondBatchThread.getName()).startsWith("storage-batch-");
    assertThat(answeringThread).isSameAs(secondBatchThread);
  }

  @Test
  void aSubmittedItemWhoseCallEndsWhileQueuedFailsAtOnceWithItsCancellation() throws Exception {
    var gate = new Gate();
    var coalescer = new Coalescer<String, String>(items -> {
      gate.holdFirst();
      return upperCase(items);
    }, 64, 1, LONG_WAIT, CoalescerTest::queuedTooLong, AS_THROWN);
    var first = gate.holdFirstBatchOf(coalescer);
    var scope = CallScope.withoutDeadline();
    var queued = scope.call(() -> coalescer.submit("impatient"));

    scope.cancel();

    assertThat(queued).isCompletedExceptionally();
    assertThatThrownBy(queued::join).cause()
        .isInstanceOfSatisfying(CallCancelledException.class, e -> assertThat(e.deadlinePassed()).isFalse());
    gate.release();
    assertThat(first.get()).contains("FIRST");
  }

  @Test
  void aBatchFailureReachesEachCallerAsTranslatedInThatCallersScope() throws Exception {
    var gate = new Gate();
    var failure = new IllegalStateException("statement cancelled");
    var coalescer = new Coalescer<String, String>(items -> {
      gate.holdFirst();
      throw failure;
    }, 64, 1, LONG_WAIT, CoalescerTest::queuedTooLong,
        (thrown, scope) -> new IllegalStateException(thrown.getMessage() + " for " + scope.timeRemaining().isPresent()));
    var first = gate.holdFirstBatchOf(coalescer);
    var withDeadline = CallScope.withDeadline(Duration.ofMinutes(1)).call(() -> coalescer.submit("a"));
    var withoutDeadline = CallScope.withoutDeadline().call(() -> coalescer.submit("b"));
    gate.release();

    assertThatThrownBy(first::get).cause().hasMessage("statement cancelled for false");
    assertThatThrownBy(() -> withDeadline.get(5, TimeUnit.SECONDS)).cause().hasMessage("statement cancelled for true");
    assertThatThrownBy(() -> withoutDeadline.get(5, TimeUnit.SECONDS)).cause()
        .hasMessage("statement cancelled for false");
  }

  @Test
  void theQueueWatchEndsOnceTheQueueIsEmpty() throws Exception {
    var gate = new Gate();
    var coalescer = new Coalescer<String, String>(items -> {
      gate.holdFirst();
      return upperCase(items);
    }, 64, 1, Duration.ofMillis(100), CoalescerTest::queuedTooLong, AS_THROWN);
    var first = gate.holdFirstBatchOf(coalescer);
    var queued = coalescer.submit("queued");
    assertThat(coalescer.watchingQueue()).isTrue();

    assertThatThrownBy(() -> queued.get(5, TimeUnit.SECONDS)).cause().hasMessage("queued too long");
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (coalescer.watchingQueue() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(coalescer.watchingQueue()).isFalse();
    gate.release();
    assertThat(first.get()).contains("FIRST");
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

  /** Waits until {@code items} are queued. */
  private static void awaitQueued(Coalescer<?, ?> coalescer, int items) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (coalescer.queuedItems() < items) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("items did not queue");
      }
      Thread.sleep(5);
    }
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

    /** Starts a batch of the item "first" in a thread of its own and returns once it is held. */
    CompletableFuture<Optional<String>> holdFirstBatchOf(Coalescer<String, String> coalescer) {
      var first = inThread(() -> coalescer.apply("first"));
      awaitFirstHeld();
      return first;
    }

    void release() {
      released.countDown();
    }
  }
}
