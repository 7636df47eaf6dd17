package dev.users.adapter.persistence;

import dev.users.application.port.CallScope;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Does the work of concurrent calls in batches: many callers' items (ids to look up, users to
 * insert) go to the database as one statement, one round trip, one pass of the statement machinery
 * and, for a write, one commit.
 *
 * <p>It never waits for company. An item given while fewer than {@code maxBatchesInFlight}
 * batches run starts a batch at once, in its caller's thread. Only when that many are running does
 * an item queue; when a batch ends, the items queued meanwhile, up to {@code maxBatchSize} of them,
 * become the next batch, which the first of their callers runs in its own thread. A lone call thus
 * costs what a direct statement does, and under load a batch takes whatever queued during the
 * previous one's round trip.
 *
 * <p>A batch of one runs in its caller's {@link CallScope}, as a direct statement would. A batch of
 * several runs in a scope of its own, cancelled once every one of its callers is over, so that
 * one caller going away never stops the statement the others wait for. A caller whose call ends
 * stops waiting at once with its {@link dev.users.application.port.CallCancelledException}; the one
 * running the batch returns when the statement does, which the statement timeout bounds. A write
 * whose caller stopped waiting may therefore still be made, as one whose deadline passes just after
 * its commit is. A failing batch fails each of its callers with the same exception.
 *
 * <p>An item waits in the queue at most {@code maxQueueWait}, the time a caller would otherwise
 * wait for a connection of the pool: when the batches in flight are stuck (a locked table, a
 * database gone silent), the calls behind them are shed, as an exhausted pool sheds them, instead
 * of holding their streams until their deadlines. An item whose caller is gone before its batch
 * forms is left out of it.
 *
 * @param <T> an item of a batch
 * @param <R> the result of an item
 */
final class Coalescer<T, R> {

  private final Function<List<T>, List<R>> runAll;
  private final int maxBatchSize;
  private final int maxBatchesInFlight;
  private final long maxQueueWaitNanos;
  private final Supplier<RuntimeException> queuedTooLong;
  private final ReentrantLock lock = new ReentrantLock();
  /** Items waiting for a batch; non-empty only while maxBatchesInFlight batches run. */
  private final ArrayDeque<Item<T, R>> queued = new ArrayDeque<>();
  private int batchesInFlight;

  /**
   * @param runAll does the work of a batch's items in one go and returns one result per item, in
   *     their order: null for an item without one. An item given by several callers appears once
   *     per caller. It runs in the thread of one of the callers, bound to the batch's scope.
   * @param queuedTooLong the failure of an item that waited {@code maxQueueWait} in the queue
   */
  Coalescer(Function<List<T>, List<R>> runAll, int maxBatchSize, int maxBatchesInFlight,
      Duration maxQueueWait, Supplier<RuntimeException> queuedTooLong) {
    if (maxBatchSize < 1 || maxBatchesInFlight < 1) {
      throw new IllegalArgumentException("batch size and batches in flight must be at least 1");
    }
    this.runAll = runAll;
    this.maxBatchSize = maxBatchSize;
    this.maxBatchesInFlight = maxBatchesInFlight;
    this.maxQueueWaitNanos = maxQueueWait.toNanos();
    this.queuedTooLong = queuedTooLong;
  }

  /**
   * The result of {@code item}, done alone or in a batch with the items of concurrent callers.
   *
   * @return empty when the batch gave the item no result
   * @throws dev.users.application.port.CallCancelledException when the caller's call ends first
   * @throws RuntimeException what the batch's {@code runAll} threw, or {@code queuedTooLong}'s
   */
  Optional<R> apply(T item) {
    var scope = CallScope.current();
    scope.throwIfCancelled();
    var own = new Item<T, R>(item, scope);
    List<Item<T, R>> batch = null;
    lock.lock();
    try {
      if (batchesInFlight < maxBatchesInFlight) {
        batchesInFlight++;
        batch = List.of(own);
      } else {
        queued.add(own);
      }
    } finally {
      lock.unlock();
    }
    if (batch == null) {
      var outcome = awaitTurn(own, scope);
      if (!(outcome instanceof Lead<T, R> lead)) {
        return outcome.value();
      }
      batch = lead.batch();
    }
    return run(own, batch);
  }

  private Outcome<T, R> awaitTurn(Item<T, R> item, CallScope scope) {
    var registration = scope.onCancel(() -> item.outcome.complete(new Cancelled<>(scope)));
    try {
      return item.outcome.get(maxQueueWaitNanos, TimeUnit.NANOSECONDS);
    } catch (TimeoutException | InterruptedException e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      // Taken into a batch meanwhile, or woken to lead one: that outcome stands, and a batch
      // that runs is bounded by the statement timeout.
      if (!item.inBatch) {
        item.outcome.complete(new Failed<>(queuedTooLong.get()));
      }
      return item.outcome.join();
    } catch (ExecutionException e) {
      throw new IllegalStateException("items are never completed exceptionally", e);
    } finally {
      registration.remove();
    }
  }

  /** Runs {@code batch}, which holds {@code own}, hands it over, and gives every other caller its outcome. */
  private Optional<R> run(Item<T, R> own, List<Item<T, R>> batch) {
    Outcome<T, R> failed = null;
    List<R> results = List.of();
    try {
      results = batch.size() == 1 ? runAll.apply(List.of(own.value)) : runShared(batch);
      if (results.size() != batch.size()) {
        throw new IllegalStateException(results.size() + " results for a batch of " + batch.size());
      }
    } catch (RuntimeException | Error e) {
      failed = new Failed<>(e);
    } finally {
      handOver();
    }
    Optional<R> ownResult = Optional.empty();
    for (int i = 0; i < batch.size(); i++) {
      var item = batch.get(i);
      if (item == own) {
        ownResult = failed != null ? Optional.empty() : Optional.ofNullable(results.get(i));
      } else {
        item.outcome.complete(failed != null ? failed : new Done<>(Optional.ofNullable(results.get(i))));
      }
    }
    // Like the callers who stopped waiting, the one who ran the batch answers a call that is over
    // with its cancellation.
    own.scope.throwIfCancelled();
    return failed != null ? failed.value() : ownResult;
  }

  private List<R> runShared(List<Item<T, R>> batch) {
    var shared = CallScope.withoutDeadline();
    var callersLeft = new AtomicInteger(batch.size());
    var registrations = new ArrayList<CallScope.Registration>(batch.size());
    for (var item : batch) {
      registrations.add(item.scope.onCancel(() -> {
        if (callersLeft.decrementAndGet() == 0) {
          shared.cancel();
        }
      }));
    }
    try {
      var values = new ArrayList<T>(batch.size());
      batch.forEach(item -> values.add(item.value));
      return shared.call(() -> runAll.apply(values));
    } finally {
      registrations.forEach(CallScope.Registration::remove);
    }
  }

  /**
   * Ends a batch: the items queued meanwhile become the next one, led by the first of them whose
   * caller still waits; with none, one batch fewer is in flight.
   */
  private void handOver() {
    lock.lock();
    try {
      while (!queued.isEmpty()) {
        var next = new ArrayList<Item<T, R>>(Math.min(queued.size(), maxBatchSize));
        while (next.size() < maxBatchSize && !queued.isEmpty()) {
          var item = queued.poll();
          if (!item.outcome.isDone()) {
            item.inBatch = true;
            next.add(item);
          }
        }
        var lead = new Lead<>(List.copyOf(next));
        for (var candidate : next) {
          if (candidate.outcome.complete(lead)) {
            return;
          }
        }
      }
      batchesInFlight--;
    } finally {
      lock.unlock();
    }
  }

  /** One caller's item and what it is woken with. */
  private static final class Item<T, R> {

    final T value;
    final CallScope scope;
    final CompletableFuture<Outcome<T, R>> outcome = new CompletableFuture<>();
    /** Out of the queue, in a batch that runs or is about to: no longer bounded by the queue wait. */
    volatile boolean inBatch;

    Item(T value, CallScope scope) {
      this.value = value;
      this.scope = scope;
    }
  }

  /** What a queued item is woken with. */
  private sealed interface Outcome<T, R> permits Done, Failed, Cancelled, Lead {

    Optional<R> value();
  }

  private record Done<T, R>(Optional<R> value) implements Outcome<T, R> {}

  private record Failed<T, R>(Throwable failure) implements Outcome<T, R> {

    @Override
    public Optional<R> value() {
      if (failure instanceof Error error) {
        throw error;
      }
      throw (RuntimeException) failure;
    }
  }

  private record Cancelled<T, R>(CallScope scope) implements Outcome<T, R> {

    @Override
    public Optional<R> value() {
      throw scope.cancellation(null);
    }
  }

  /** Its item leads {@code batch}: its caller runs the statement for all of them. */
  private record Lead<T, R>(List<Item<T, R>> batch) implements Outcome<T, R> {

    @Override
    public Optional<R> value() {
      throw new IllegalStateException("a batch's leader runs it");
    }
  }
}
