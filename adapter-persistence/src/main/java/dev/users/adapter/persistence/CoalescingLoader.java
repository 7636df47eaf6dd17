package dev.users.adapter.persistence;

import dev.users.application.port.CallScope;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Looks values up by key, folding the lookups of concurrent calls into one batch: one query, one
 * round trip, one pass of the statement machinery for many callers.
 *
 * <p>It never waits for company. A lookup made while fewer than {@code maxBatchesInFlight}
 * batches run starts one at once, in its caller's thread. Only when that many are running does a
 * lookup queue; when a batch ends, the lookups queued meanwhile, up to {@code maxBatchSize} of
 * them, become the next batch, which the first of them runs in its own thread. A lone call thus
 * costs what a direct query does, and under load a batch takes whatever queued during the
 * previous one's round trip.
 *
 * <p>A batch of one runs in its caller's {@link CallScope}, as a direct query would. A batch of
 * several runs in a scope of its own, cancelled once every one of its callers is over, so that
 * one caller going away never stops the query the others wait for. A caller whose call ends stops
 * waiting at once with its {@link dev.users.application.port.CallCancelledException}; the one
 * running the batch returns when the query does, which the statement timeout bounds. A failing
 * batch fails each of its callers with the same exception.
 *
 * <p>A lookup waits in the queue at most {@code maxQueueWait}, the time a caller would otherwise
 * wait for a connection of the pool: when the batches in flight are stuck (a locked table, a
 * database gone silent), the calls behind them are shed, as an exhausted pool sheds them, instead
 * of holding their streams until their deadlines.
 */
final class CoalescingLoader<K, V> {

  private final Function<List<K>, Map<K, V>> loadAll;
  private final int maxBatchSize;
  private final int maxBatchesInFlight;
  private final long maxQueueWaitNanos;
  private final Supplier<RuntimeException> queuedTooLong;
  private final ReentrantLock lock = new ReentrantLock();
  /** Lookups waiting for a batch; non-empty only while maxBatchesInFlight batches run. */
  private final ArrayDeque<Lookup<K, V>> queued = new ArrayDeque<>();
  private int batchesInFlight;

  /**
   * @param loadAll finds the values of distinct keys in one go; a key without a value is absent
   *     from its result. It runs in the thread of one of the callers, bound to the batch's scope.
   * @param queuedTooLong the failure of a lookup that waited {@code maxQueueWait} in the queue
   */
  CoalescingLoader(Function<List<K>, Map<K, V>> loadAll, int maxBatchSize, int maxBatchesInFlight,
      Duration maxQueueWait, Supplier<RuntimeException> queuedTooLong) {
    if (maxBatchSize < 1 || maxBatchesInFlight < 1) {
      throw new IllegalArgumentException("batch size and batches in flight must be at least 1");
    }
    this.loadAll = loadAll;
    this.maxBatchSize = maxBatchSize;
    this.maxBatchesInFlight = maxBatchesInFlight;
    this.maxQueueWaitNanos = maxQueueWait.toNanos();
    this.queuedTooLong = queuedTooLong;
  }

  /**
   * The value of {@code key}, looked up alone or with the keys of concurrent callers.
   *
   * @throws dev.users.application.port.CallCancelledException when the caller's call ends first
   * @throws RuntimeException what the batch's {@code loadAll} threw, or {@code queuedTooLong}'s
   */
  Optional<V> load(K key) {
    var scope = CallScope.current();
    scope.throwIfCancelled();
    var lookup = new Lookup<K, V>(key, scope);
    List<Lookup<K, V>> batch = null;
    lock.lock();
    try {
      if (batchesInFlight < maxBatchesInFlight) {
        batchesInFlight++;
        batch = List.of(lookup);
      } else {
        queued.add(lookup);
      }
    } finally {
      lock.unlock();
    }
    if (batch == null) {
      var outcome = awaitTurn(lookup, scope);
      if (!(outcome instanceof Lead<K, V> lead)) {
        return outcome.value();
      }
      batch = lead.batch();
    }
    return run(lookup, batch);
  }

  private Outcome<K, V> awaitTurn(Lookup<K, V> lookup, CallScope scope) {
    var registration = scope.onCancel(() -> lookup.outcome.complete(new Cancelled<>(scope)));
    try {
      return lookup.outcome.get(maxQueueWaitNanos, TimeUnit.NANOSECONDS);
    } catch (TimeoutException | InterruptedException e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      // Taken into a batch meanwhile, or woken to lead one: that outcome stands, and a batch
      // that runs is bounded by the statement timeout.
      if (!lookup.inBatch) {
        lookup.outcome.complete(new Failed<>(queuedTooLong.get()));
      }
      return lookup.outcome.join();
    } catch (ExecutionException e) {
      throw new IllegalStateException("lookups are never completed exceptionally", e);
    } finally {
      registration.remove();
    }
  }

  /** Runs {@code batch}, which holds {@code own}, hands it over, and gives every other caller its outcome. */
  private Optional<V> run(Lookup<K, V> own, List<Lookup<K, V>> batch) {
    Outcome<K, V> outcome;
    Map<K, V> found = Map.of();
    try {
      found = batch.size() == 1 ? loadAll.apply(List.of(own.key)) : runShared(batch);
      outcome = null;
    } catch (RuntimeException | Error e) {
      outcome = new Failed<>(e);
    } finally {
      handOver();
    }
    for (var lookup : batch) {
      if (lookup != own) {
        lookup.outcome.complete(outcome != null ? outcome : new Found<>(Optional.ofNullable(found.get(lookup.key))));
      }
    }
    // Like the callers who stopped waiting, the one who ran the batch answers a call that is over
    // with its cancellation.
    own.scope.throwIfCancelled();
    return outcome != null ? outcome.value() : Optional.ofNullable(found.get(own.key));
  }

  private Map<K, V> runShared(List<Lookup<K, V>> batch) {
    var shared = CallScope.withoutDeadline();
    var callersLeft = new AtomicInteger(batch.size());
    var registrations = new ArrayList<CallScope.Registration>(batch.size());
    for (var lookup : batch) {
      registrations.add(lookup.scope.onCancel(() -> {
        if (callersLeft.decrementAndGet() == 0) {
          shared.cancel();
        }
      }));
    }
    try {
      var keys = batch.stream().map(lookup -> lookup.key).distinct().toList();
      return shared.call(() -> loadAll.apply(keys));
    } finally {
      registrations.forEach(CallScope.Registration::remove);
    }
  }

  /**
   * Ends a batch: the lookups queued meanwhile become the next one, led by the first of them whose
   * caller still waits; with none, one batch fewer is in flight.
   */
  private void handOver() {
    lock.lock();
    try {
      while (!queued.isEmpty()) {
        var next = new ArrayList<Lookup<K, V>>(Math.min(queued.size(), maxBatchSize));
        while (next.size() < maxBatchSize && !queued.isEmpty()) {
          var lookup = queued.poll();
          if (!lookup.outcome.isDone()) {
            lookup.inBatch = true;
            next.add(lookup);
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

  private static final class Lookup<K, V> {

    final K key;
    final CallScope scope;
    final CompletableFuture<Outcome<K, V>> outcome = new CompletableFuture<>();
    /** Out of the queue, in a batch that runs or is about to: no longer bounded by the queue wait. */
    volatile boolean inBatch;

    Lookup(K key, CallScope scope) {
      this.key = key;
      this.scope = scope;
    }
  }

  /** What a queued lookup is woken with. */
  private sealed interface Outcome<K, V> permits Found, Failed, Cancelled, Lead {

    Optional<V> value();
  }

  private record Found<K, V>(Optional<V> value) implements Outcome<K, V> {}

  private record Failed<K, V>(Throwable failure) implements Outcome<K, V> {

    @Override
    public Optional<V> value() {
      if (failure instanceof Error error) {
        throw error;
      }
      throw (RuntimeException) failure;
    }
  }

  private record Cancelled<K, V>(CallScope scope) implements Outcome<K, V> {

    @Override
    public Optional<V> value() {
      throw scope.cancellation(null);
    }
  }

  /** Its lookup leads {@code batch}: its caller runs the query for all of them. */
  private record Lead<K, V>(List<Lookup<K, V>> batch) implements Outcome<K, V> {

    @Override
    public Optional<V> value() {
      throw new IllegalStateException("a batch's leader runs it");
    }
  }
}
