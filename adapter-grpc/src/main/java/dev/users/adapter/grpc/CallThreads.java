package dev.users.adapter.grpc;

import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Metadata;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Where each call's callbacks run: the interceptors, the service method and the callbacks after
 * it. Most run on {@code blocking}, threads that may wait for storage. A method whose handler never
 * blocks runs in the transport's thread (the Netty event loop that read its frames), saving the hand-over to
 * another thread and back for every call; it may then only compute and hand work on, as GetUser
 * does: its lookup answers through a stage that storage completes in a thread of its own.
 *
 * <p>Install with {@link #installOn}, which makes the transport's thread the server's default and
 * this the supplier of every call's executor.
 */
public final class CallThreads implements ServerCallExecutorSupplier {

  /** The methods whose handlers only compute and hand on, and every interceptor before them. */
  private static final Set<String> NON_BLOCKING = Set.of(UserServiceGrpc.getGetUserMethod().getFullMethodName());

  private final Executor blocking;

  private CallThreads(Executor blocking) {
    this.blocking = blocking;
  }

  /**
   * Runs the calls of the non-blocking methods in the transport's threads and every other call on
   * {@code blocking}. The server's default executor becomes the transport's thread, which only
   * looks up each call's method and executor before the call moves to its own.
   */
  public static void installOn(ServerBuilder<?> server, Executor blocking) {
    server.directExecutor().callExecutor(new CallThreads(blocking));
  }

  /** Null, for the server's default (the transport's thread), for a non-blocking method. */
  @Override
  public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
    return NON_BLOCKING.contains(call.getMethodDescriptor().getFullMethodName()) ? null : blocking;
  }
}
