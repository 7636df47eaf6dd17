package dev.users.adapter.grpc;

import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Metadata;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.health.v1.HealthGrpc;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Where each call's callbacks run: the interceptors, the service method and the callbacks after
 * it.
 *
 * <ul>
 *   <li>GetUser and CreateUser, whose handlers never block, run in the transport's thread (the
 *       Netty event loop that read their frames), saving the hand-over to another thread and back
 *       for every call. They may only compute and hand work on there, as they do: the lookup, or
 *       the insert, answers through a stage that storage completes in a thread of its own. Health's
 *       Check and Watch, which answer from memory, run there too: probes cost the least, and
 *       during start-up, while storage opens, they do not wait for threads that start-up keeps
 *       busy.
 *   <li>ListUsers runs on a few platform threads, at most {@code listingThreads}. A listing reads
 *       storage in long stretches, a socket read after another; on a platform thread the kernel
 *       wakes the reader when the database's rows arrive, where a virtual thread's read goes
 *       through the JDK's poller, which costs a registration and two more thread wake-ups a read.
 *       A listing's callback returns whenever its client is not ready, so listings share the
 *       threads; more threads than database connections would only wait for one.
 *   <li>Every other call runs on {@code blocking}, threads that may wait for storage.
 * </ul>
 *
 * <p>Install with {@link #installOn}, which makes the transport's thread the server's default and
 * this the supplier of every call's executor: grpc-java looks each call's executor up on the
 * default one, which is then no hop of its own.
 */
public final class CallThreads implements ServerCallExecutorSupplier {

  /** Methods whose handlers never block, run in the transport's thread. */
  private static final Set<String> IN_TRANSPORT = Set.of(
      UserServiceGrpc.getGetUserMethod().getFullMethodName(),
      UserServiceGrpc.getCreateUserMethod().getFullMethodName(),
      HealthGrpc.getCheckMethod().getFullMethodName(),
      HealthGrpc.getWatchMethod().getFullMethodName());
  private static final String LIST_USERS = UserServiceGrpc.getListUsersMethod().getFullMethodName();

  /** How long a listing thread with nothing to do stays for the next callback. */
  private static final Duration LISTING_THREAD_KEEP_ALIVE = Duration.ofSeconds(30);

  private final Executor blocking;
  private final Executor listings;

  private CallThreads(Executor blocking, Executor listings) {
    this.blocking = blocking;
    this.listings = listings;
  }

  /**
   * Runs GetUser and CreateUser in the transport's threads, ListUsers on at most {@code
   * listingThreads} platform threads of its own (made when needed, gone after 30 s idle, so there
   * is nothing to shut down), and every other call on {@code blocking}.
   */
  public static void installOn(ServerBuilder<?> server, Executor blocking, int listingThreads) {
    var listings = new ThreadPoolExecutor(listingThreads, listingThreads, LISTING_THREAD_KEEP_ALIVE.toSeconds(),
        TimeUnit.SECONDS, new LinkedBlockingQueue<>(), Thread.ofPlatform().name("users-listing-", 0).daemon().factory());
    listings.allowCoreThreadTimeOut(true);
    server.directExecutor().callExecutor(new CallThreads(blocking, listings));
  }

  /** Null, for the server's default (the transport's thread), for GetUser, CreateUser and health. */
  @Override
  public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
    var method = call.getMethodDescriptor().getFullMethodName();
    if (IN_TRANSPORT.contains(method)) {
      return null;
    }
    return method.equals(LIST_USERS) ? listings : blocking;
  }
}
