package dev.users.bootstrap;

import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.CreateUserResponse;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.GetUserResponse;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.ListUsersResponse;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A load generator against a running users-service: bulk import, a full listing of every user
 * with the server's heap sampled, and closed-loop unary load with latency percentiles. Bounded in
 * count and time; traffic goes to the loopback address only.
 *
 * <p>Run through {@code BenchmarkMain}, which starts the service in this JVM (so that its heap can
 * be sampled) on PostgreSQL or in memory.
 */
final class LoadBenchmark {

  private final ManagedChannel channel;

  LoadBenchmark(ManagedChannel channel) {
    this.channel = channel;
  }

  /**
   * Streams {@code count} new users through one ImportUsers call, honouring flow control.
   *
   * @return users per second
   */
  double importUsers(int count) throws Exception {
    long start = System.nanoTime();
    var done = new CompletableFuture<ImportUsersResponse>();
    var next = new AtomicInteger();
    UserServiceGrpc.newStub(channel).importUsers(new ClientResponseObserver<ImportUsersRequest, ImportUsersResponse>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<ImportUsersRequest> requests) {
        requests.setOnReadyHandler(() -> {
          while (requests.isReady() && next.get() < count) {
            int i = next.getAndIncrement();
            requests.onNext(ImportUsersRequest.newBuilder()
                .setEmail("bench-" + i + "@example.org")
                .setDisplayName("Bench User " + i)
                .build());
          }
          if (next.get() == count && next.compareAndSet(count, count + 1)) {
            requests.onCompleted();
          }
        });
      }

      @Override
      public void onNext(ImportUsersResponse value) {
        done.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    });
    var response = done.get(30, TimeUnit.MINUTES);
    double seconds = (System.nanoTime() - start) / 1e9;
    report("ImportUsers", "%,d users in %.1f s: %,.0f users/s (created %,d, rejected %d)",
        count, seconds, count / seconds, response.getCreatedCount(), response.getFailuresCount());
    return count / seconds;
  }

  /**
   * Lists every user through one ListUsers call while sampling the heap every 20 ms, to show that
   * the server's memory does not grow with the size of the result.
   *
   * @return a sample of ids, for the read load, and the users per second
   */
  Listed listAll() throws Exception {
    var memory = ManagementFactory.getMemoryMXBean();
    System.gc();
    long before = memory.getHeapMemoryUsage().getUsed();
    var peak = new AtomicLong(before);
    var sampler = Thread.ofPlatform().daemon(true).start(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    long start = System.nanoTime();
    var received = new AtomicLong();
    var messages = new AtomicLong();
    var sample = new ArrayList<String>();
    var it = UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.MINUTES)
        .listUsers(ListUsersRequest.getDefaultInstance());
    while (it.hasNext()) {
      ListUsersResponse message = it.next();
      messages.incrementAndGet();
      received.addAndGet(message.getUsersCount());
      if (sample.size() < 10_000 && message.getUsersCount() > 0) {
        sample.add(message.getUsers(0).getId());
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    sampler.interrupt();
    var heap = memory.getHeapMemoryUsage();
    report("ListUsers", "%,d users in %,d messages in %.1f s: %,.0f users/s", received.get(), messages.get(),
        seconds, received.get() / seconds);
    report("ListUsers heap", "before %,d MiB, peak while streaming %,d MiB, max heap %,d MiB",
        before >> 20, peak.get() >> 20, heap.getMax() >> 20);
    return new Listed(sample, received.get() / seconds);
  }

  record Listed(List<String> sampleIds, double usersPerSecond) {}

  /** Closed-loop GetUser calls with {@code concurrency} in flight for {@code seconds}. */
  void getUsers(List<String> ids, int concurrency, int seconds) throws InterruptedException {
    var stub = UserServiceGrpc.newStub(channel);
    closedLoop("GetUser", concurrency, seconds, observer -> stub.withDeadlineAfter(5, TimeUnit.SECONDS)
        .getUser(GetUserRequest.newBuilder().setId(ids.get(ThreadLocalRandom.current().nextInt(ids.size()))).build(),
            LoadBenchmark.<GetUserResponse>typed(observer)));
  }

  /** Closed-loop CreateUser calls with {@code concurrency} in flight for {@code seconds}. */
  void createUsers(int concurrency, int seconds) throws InterruptedException {
    var stub = UserServiceGrpc.newStub(channel);
    var next = new AtomicLong();
    closedLoop("CreateUser", concurrency, seconds, observer -> stub.withDeadlineAfter(5, TimeUnit.SECONDS)
        .createUser(CreateUserRequest.newBuilder()
            .setEmail("load-" + next.incrementAndGet() + "@example.org")
            .setDisplayName("Load User")
            .build(), LoadBenchmark.<CreateUserResponse>typed(observer)));
  }

  /** The latency observer ignores the response, so it serves every response type. */
  @SuppressWarnings("unchecked")
  private static <T> StreamObserver<T> typed(StreamObserver<Object> observer) {
    return (StreamObserver<T>) (StreamObserver<?>) observer;
  }

  private void closedLoop(String name, int concurrency, int seconds, Consumer<StreamObserver<Object>> call)
      throws InterruptedException {
    var permits = new Semaphore(concurrency);
    var latencies = new long[5_000_000];
    var recorded = new AtomicInteger();
    var failures = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    long start = System.nanoTime();
    while (System.nanoTime() < end) {
      permits.acquire();
      long sent = System.nanoTime();
      call.accept(new StreamObserver<>() {
        @Override
        public void onNext(Object value) {}

        @Override
        public void onError(Throwable t) {
          failures.incrementAndGet();
          permits.release();
        }

        @Override
        public void onCompleted() {
          int slot = recorded.getAndIncrement();
          if (slot < latencies.length) {
            latencies[slot] = System.nanoTime() - sent;
          }
          permits.release();
        }
      });
    }
    permits.acquire(concurrency);
    double elapsed = (System.nanoTime() - start) / 1e9;
    int n = Math.min(recorded.get(), latencies.length);
    var sorted = Arrays.copyOf(latencies, n);
    Arrays.sort(sorted);
    report(name, "%d in flight, %.0f s: %,.0f calls/s, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, %d failed",
        concurrency, elapsed, n / elapsed, percentile(sorted, 0.50), percentile(sorted, 0.99),
        percentile(sorted, 0.999), failures.get());
  }

  private static double percentile(long[] sorted, double p) {
    return sorted.length == 0 ? Double.NaN : sorted[(int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] / 1e6;
  }

  static void report(String what, String format, Object... args) {
    System.out.printf(Locale.ROOT, "%-16s " + format + "%n", prepend(what, args));
  }

  private static Object[] prepend(Object first, Object[] rest) {
    var all = new Object[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }
}
