package dev.users.adapter.persistence;

import dev.users.application.port.CallScope;
import io.opentelemetry.context.Context;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Does the work of concurrent calls in batches: many callers' items (ids to look up, users to
 * insert) go to the database as one statement, one round trip, one pass of the statement machinery
 * and, for a write, one commit.
 *
 * <p>It never waits for company. An item given while fewer than {@code maxBatchesInFlight}
 * batches run starts a batch at once: in its caller's thread when that is a virtual thread, which
 * may block, and on one of the coalescer's batch threads otherwise (a transport's thread must not
 * block). Only when that many are running does an item queue; when a batch ends, the items queued
 * meanwhile, up to {@code maxBatchSize} of them, become the next batch, which a batch thread runs.
 * A lone call thus costs what a direct statement does, and under load a batch takes whatever queued
 * during the previous one's round trip.
 *
 * <p>A queued item holds no thread: {@link #submit} returns its future at once, and the thread
 * that ran its batch completes it, running whatever depends on it there. So under load a batch of
 * thirty costs one hand-over to a batch thread instead of thirty threads parking and being woken,
 * which was most of a lookup's cost. {@link #apply} is the blocking form, for callers that have
 * nothing else to do.
 *
 * <p>A batch of one runs in its caller's {@link CallScope} and OpenTelemetry {@link Context}, as a
 * direct statement would: its statement is a child of the call's span. A batch of several runs in
 * the root context, its statement no call's child, and in a scope of its own, cancelled once every
 * one of its callers is over, so that one caller going away never stops the statement the others
 * wait for. An item whose call ends while it waits is completed at once with its {@link
 * dev.users.application.port.CallCancelledException}, and any item whose call is over when its
 * batch ends gets that instead of its result; the batch itself runs on until its statement returns,
 * which the statement timeout bounds. A write whose caller stopped waiting may therefore still be
 * made, as one whose deadline passes just after its commit is. A failing batch fails each of its
 * items, with the failure as {@code failureFor} translates it in the item's own scope.
 * <p>An item waits in the queue at most {@code maxQueueWait}, the time a caller would otherwise
 * wait for a connection of the pool: when the batches in flight are stuck (a locked table, a
 * database gone silent), the items behind them are failed, as an exhausted pool sheds calls,
 * instead of holding their calls until their deadlines. One virtual thread watches the queue while
 * it holds items. An item whose call is over before its batch forms is left out of it.
 *
 * @param <T> an item of a batch
 * @param <R> the result of an item
 */
final class Coalescer<T, R> {

  private static final ThreadFactory SWEEPER_THREADS = Thread.ofVirtual().name("storage-queue-sweeper").factory();

  /** How long a batch thread with nothing to run stays for the next batch. */
  private static final Duration BATCH_THREAD_KEEP_ALIVE = Duration.ofSeconds(30);

  private final Function<List<T>, List<R>> runAll;
  private final int maxBatchSize;
  private final int maxBatchesInFlight;
  private final long maxQueueWaitNanos;
  private final Supplier<RuntimeException> queuedTooLong;
  private final BiFunction<RuntimeException, CallScope, RuntimeException> failureFor;
  private final ThreadPoolExecutor batchThreads;
  private final ReentrantLock lock = new ReentrantLock();
  /** Items waiting for a batch, oldest first; non-empty only while maxBatchesInFlight batches run. */
  private final ArrayDeque<Item<T, R>> queued = new ArrayDeque<>();
  private int batchesInFlight;
  /** Whether a sweeper thread watches {@link #queued}; it ends when it finds the queue empty. */
  private boolean sweeping;

  /**
   * @param runAll does the work of a batch's items in one go and returns one result per item, in
   *     their order: null for an item without one. An item given by several callers appears once
   *     per caller. It runs bound to the batch's scope, in a caller's thread or a batch thread.
   * @param queuedTooLong the failure of an item that waited {@code maxQueueWait} in the queue
   * @param failureFor what a caller is failed with when {@code runAll} threw the given exception,
   *     given the caller's scope: a statement stopped because of that call is that call's
   *     cancellation, for instance
   */
  Coalescer(Function<List<T>, List<R>> runAll, int maxBatchSize, int maxBatchesInFlight,
      Duration maxQueueWait, Supplier<RuntimeException> queuedTooLong,
      BiFunction<RuntimeException, CallScope, RuntimeException> failureFor) {
    if (maxBatchSize < 1 || maxBatchesInFlight < 1) {
      throw new IllegalArgumentException("batch size and batches in flight must be at least 1");
    }
    this.runAll = runAll;
    this.maxBatchSize = maxBatchSize;
    this.maxBatchesInFlight = maxBatchesInFlight;
    this.maxQueueWaitNanos = maxQueueWait.toNanos();
    this.queuedTooLong = queuedTooLong;
    this.failureFor = failureFor;
    // Platform threads, made as batches need them and gone after a while idle: a blocking read on
    // one waits in the kernel, which wakes the thread when the database answers. A virtual thread's
    // read goes through the JDK's poller instead, which registers the socket for each read and
    // takes two more thread wake-ups to resume it. No queue: a batch starts on an idle thread or a
    // new one, and the batches in flight bound how many there are.
    this.batchThreads = new ThreadPoolExecutor(0, Integer.MAX_VALUE, BATCH_THREAD_KEEP_ALIVE.toSeconds(),
        TimeUnit.SECONDS, new SynchronousQueue<>(), Thread.ofPlatform().name("storage-batch-", 0).daemon().factory());
  }

  /**
   * The result of {@code item}, done alone or in a batch with the items of concurrent callers, for
   * the call of this thread's {@link CallScope}. Done alone, it is done before this returns, in
   * this thread; queued, the future completes in the thread of the batch it joins, which runs
   * what depends on it.
   *
   * @return a future completed with the result, empty when the batch gave the item none; or
   *     failed with the {@link dev.users.application.port.CallCancelledException} of a call that
   *     is over, with what {@code failureFor} makes of a failed batch, or with {@code
   *     queuedTooLong}'s failure
   */
  CompletableFuture<Optional<R>> submit(T item) {
    var own = new Item<T, R>(item, CallScope.current());
    if (own.scope.isCancelled()) {
      own.future.completeExceptionally(own.scope.cancellation(null));
      return own.future;
    }
    boolean runNow;
    lock.lock();
    try {
      runNow = batchesInFlight < maxBatchesInFlight;
      if (runNow) {
        batchesInFlight++;
      } else {
        queued.add(own);
        if (!sweeping) {
          sweeping = true;
          SWEEPER_THREADS.newThread(this::sweep).start();
        }
      }
    } finally {
      lock.unlock();
    }
    if (runNow) {
      // A virtual thread may block: it runs its lone batch itself, with no hand-over. A platform
      // thread (a transport's) must not: its batch goes to a batch thread.
      if (Thread.currentThread().isVirtual()) {
        run(List.of(own));
      } else {
        batchThreads.execute(() -> run(List.of(own)));
      }
    } else {
      // Registered once queued, so that a batch taking the item may already have completed it,
      // and then forgotten at once; registering on a call that is over completes the item.
      var registration = own.scope.onCancel(own::cancel);
      own.registration = registration;
      if (own.future.isDone()) {
        registration.remove();
      }
    }
    return own.future;
  }

  /**
   * {@link #submit} for a caller that waits: the result, or the future's failure thrown as it is.
   *
   * @return empty when the batch gave the item no result
   */
  Optional<R> apply(T item) {
    try {
      return submit(item).join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw (RuntimeException) e.getCause();
    }
  }

  /** The items waiting in the queue, for tests. */
  int queuedItems() {
    lock.lock();
    try {
      return queued.size();
    } finally {
      lock.unlock();
    }
  }

  /** Whether a thread watches the queue for items that waited too long, for tests. */
  boolean watchingQueue() {
    lock.lock();
    try {
      return sweeping;
    } finally {
      lock.unlock();
    }
  }

  /** Runs {@code batch}, starts the next one, and completes each of its items. */
  private void run(List<Item<T, R>> batch) {
    Throwable failed = null;
    List<R> results = List.of();
    try {
      results = batch.size() == 1 ? runAlone(batch.getFirst()) : runShared(batch);
      if (results.size() != batch.size()) {
        throw new IllegalStateException(results.size() + " results for a batch of " + batch.size());
      }
    } catch (RuntimeException | Error e) {
      failed = e;
    } finally {
      var next = takeNext();
      if (next != null) {
        batchThreads.execute(() -> run(next));
      }
    }
    for (int i = 0; i < batch.size(); i++) {
      var item = batch.get(i);
      if (failed != null) {
        item.fail(failed, failureFor);
      } else {
        item.succeed(Optional.ofNullable(results.get(i)));
      }
    }
  }

  private List<R> runAlone(Item<T, R> item) {
    var value = item.value;
    try (var traced = item.context.makeCurrent()) {
      return item.scope.call(() -> runAll.apply(List.of(value)));
    }
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
      try (var untraced = Context.root().makeCurrent()) {
        return shared.call(() -> runAll.apply(values));
      }
    } finally {
      registrations.forEach(CallScope.Registration::remove);
    }
  }

  /**
   * Ends a batch: the items queued meanwhile whose calls still wait, up to the maximum, become the
   * next one, which the caller starts; with none, one batch fewer is in flight.
   *
   * @return the next batch, or null
   */
  private List<Item<T, R>> takeNext() {
    lock.lock();
    try {
      var next = new ArrayList<Item<T, R>>(Math.min(queued.size(), maxBatchSize));
      while (next.size() < maxBatchSize && !queued.isEmpty()) {
        var item = queued.poll();
        if (!item.future.isDone()) {
          next.add(item);
        }
      }
      if (next.isEmpty()) {
        batchesInFlight--;
        return null;
      }
      return next;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Fails the items that have waited {@code maxQueueWait} in the queue, from the oldest, and sleeps
   * until the oldest left would have; ends when the queue is empty. A queue that empties and fills
   * again before it wakes keeps it going: one sleep per {@code maxQueueWait} under steady load.
   */
  private void sweep() {
    while (true) {
      var expired = new ArrayList<Item<T, R>>();
      long sleepNanos = 0;
      lock.lock();
      try {
        long now = System.nanoTime();
        while (!queued.isEmpty()) {
          var oldest = queued.peek();
          long left = oldest.queuedAtNanos + maxQueueWaitNanos - now;
          if (!oldest.future.isDone() && left > 0) {
            sleepNanos = left;
            break;
          }
          queued.poll();
          expired.add(oldest);
        }
        if (queued.isEmpty()) {
          sweeping = false;
        }
      } finally {
        lock.unlock();
      }
      for (var item : expired) {
        item.fail(queuedTooLong.get(), (failure, scope) -> failure);
      }
      if (sleepNanos == 0) {
        return;
      }
      LockSupport.parkNanos(sleepNanos);
    }
  }

  /** One caller's item and the future its caller is given. */
  private static final class Item<T, R> {

    final T value;
    final CallScope scope;
    final Context context = Context.current();
    final CompletableFuture<Optional<R>> future = new CompletableFuture<>();
    final long queuedAtNanos = System.nanoTime();
    /** Set by the caller's thread once queued; null for an item run at once. */
    volatile CallScope.Registration registration;

    Item(T value, CallScope scope) {
      this.value = value;
      this.scope = scope;
    }

    void succeed(Optional<R> result) {
      if (scope.isCancelled()) {
        cancel();
      } else if (future.complete(result)) {
        forgetCancellation();
      }
    }

    void fail(Throwable failure, BiFunction<RuntimeException, CallScope, RuntimeException> failureFor) {
      var failedWith = failure instanceof RuntimeException e ? failureFor.apply(e, scope) : failure;
      if (future.completeExceptionally(failedWith)) {
        forgetCancellation();
      }
    }

    void cancel() {
      if (future.completeExceptionally(scope.cancellation(null))) {
        forgetCancellation();
      }
    }

    private void forgetCancellation() {
      var registered = registration;
      if (registered != null) {
        registered.remove();
      }
    }
  }
}
