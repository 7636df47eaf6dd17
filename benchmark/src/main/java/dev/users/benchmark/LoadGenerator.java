package dev.users.benchmark;

import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * The load generator every gRPC target is driven by: closed-loop unary calls over a few
 * connections, and the two bulk streams of the users API. Bounded in count and time; it connects
 * to the loopback address only.
 */
final class LoadGenerator implements AutoCloseable {

  /** Latencies kept per phase; calls beyond it are counted but not timed. */
  private static final int MAX_TIMED_CALLS = 4_000_000;

  private static final long CALL_DEADLINE_SECONDS = 5;

  private final List<ManagedChannel> channels = new ArrayList<>();

  /**
   * {@code connections} channels to {@code 127.0.0.1:port}, each its own HTTP/2 connection. Calls
   * complete on the transport's threads: the loop itself adds no thread hop to what it measures.
   */
  LoadGenerator(int port, int connections) {
    for (int i = 0; i < connections; i++) {
      channels.add(NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().directExecutor()
          .maxInboundMessageSize(64 << 20).build());
    }
  }

  /** What a closed loop measured, latencies in nanoseconds, sorted. */
  record Loop(long calls, long failed, String firstFailure, double seconds, long[] latencies) {

    double callsPerSecond() {
      return calls / seconds;
    }

    /** The latency at or below which fraction {@code p} of the timed calls completed, in ms. */
    double percentileMillis(double p) {
      return latencies.length == 0 ? Double.NaN
          : latencies[(int) Math.min(latencies.length - 1, Math.max(0, Math.ceil(p * latencies.length) - 1))] / 1e6;
    }
  }

  /**
   * Keeps {@code perConnection} calls of {@code method} in flight on each of the first
   * {@code connections} connections for {@code seconds}: each completed call starts the next one until the time is up. Failed calls are
   * counted, not retried, and not timed.
   *
   * @param request the request of the n-th call
   */
  <Q, R> Loop closedLoop(MethodDescriptor<Q, R> method, IntFunction<Q> request, int connections,
      int perConnection, double seconds)
      throws InterruptedException {
    var latencies = new long[MAX_TIMED_CALLS];
    var timed = new AtomicInteger();
    var calls = new AtomicLong();
    var failed = new AtomicLong();
    var firstFailure = new AtomicReference<String>();
    var sequence = new AtomicInteger();
    var used = channels.subList(0, connections);
    int slots = perConnection * connections;
    var finished = new CountDownLatch(slots);
    long start = System.nanoTime();
    long end = start + (long) (seconds * 1e9);
    final class Slot {
      private final ManagedChannel channel;

      Slot(ManagedChannel channel) {
        this.channel = channel;
      }

      void next() {
        if (System.nanoTime() - end >= 0) {
          finished.countDown();
          return;
        }
        long sent = System.nanoTime();
        var call = channel.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(CALL_DEADLINE_SECONDS, TimeUnit.SECONDS));
        ClientCalls.asyncUnaryCall(call, request.apply(sequence.getAndIncrement()), new StreamObserver<R>() {
          @Override
          public void onNext(R value) {}

          @Override
          public void onError(Throwable t) {
            calls.incrementAndGet();
            failed.incrementAndGet();
            firstFailure.compareAndSet(null, Status.fromThrowable(t).toString());
            // A call can fail while it starts, on this very stack: the next one starts elsewhere.
            ForkJoinPool.commonPool().execute(Slot.this::next);
          }

          @Override
          public void onCompleted() {
            long latency = System.nanoTime() - sent;
            calls.incrementAndGet();
            int at = timed.getAndIncrement();
            if (at < latencies.length) {
              latencies[at] = latency;
            }
            next();
          }
        });
      }
    }
    for (int slot = 0; slot < slots; slot++) {
      new Slot(used.get(slot % connections)).next();
    }
    if (!finished.await((long) seconds + 2 * CALL_DEADLINE_SECONDS, TimeUnit.SECONDS)) {
      throw new IllegalStateException(method.getFullMethodName() + ": calls still open past their deadline");
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    var sorted = Arrays.copyOf(latencies, Math.min(timed.get(), latencies.length));
    Arrays.sort(sorted);
    return new Loop(calls.get(), failed.get(), firstFailure.get(), elapsed, sorted);
  }

  /** What ImportUsers reported, and how long it took. */
  record Imported(long created, long rejected, double seconds) {}

  /**
   * Streams {@code count} new users, {@code <prefix>-<n>@example.org}, through one ImportUsers call
   * as fast as flow control lets it.
   */
  Imported importUsers(String prefix, int count) throws Exception {
    long start = System.nanoTime();
    var done = new CompletableFuture<ImportUsersResponse>();
    var next = new AtomicInteger();
    UserServiceGrpc.newStub(channels.get(0)).withDeadlineAfter(30, TimeUnit.MINUTES)
        .importUsers(new ClientResponseObserver<ImportUsersRequest, ImportUsersResponse>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<ImportUsersRequest> requests) {
            requests.setOnReadyHandler(() -> {
              while (requests.isReady() && next.get() < count) {
                int i = next.getAndIncrement();
                requests.onNext(ImportUsersRequest.newBuilder()
                    .setEmail(prefix + "-" + i + "@example.org")
                    .setDisplayName("Bench User " + i)
                    .build());
              }
              if (next.compareAndSet(count, count + 1)) {
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
    return new Imported(response.getCreatedCount(), response.getFailuresCount(), (System.nanoTime() - start) / 1e9);
  }

  /** What one ListUsers stream delivered: the users, the messages, the first {@code sampleSize} ids. */
  record Listed(long users, long messages, double seconds, List<String> ids) {}

  /** Lists every user through one ListUsers call, keeping the first {@code sampleSize} ids. */
  Listed listUsers(int sampleSize) {
    long start = System.nanoTime();
    long users = 0;
    long messages = 0;
    var ids = new ArrayList<String>();
    var stream = UserServiceGrpc.newBlockingStub(channels.get(0)).withDeadlineAfter(30, TimeUnit.MINUTES)
        .listUsers(ListUsersRequest.getDefaultInstance());
    while (stream.hasNext()) {
      var message = stream.next();
      messages++;
      users += message.getUsersCount();
      for (int i = 0; i < message.getUsersCount() && ids.size() < sampleSize; i++) {
        ids.add(message.getUsers(i).getId());
      }
    }
    return new Listed(users, messages, (System.nanoTime() - start) / 1e9, ids);
  }

  @Override
  public void close() throws InterruptedException {
    for (var channel : channels) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
