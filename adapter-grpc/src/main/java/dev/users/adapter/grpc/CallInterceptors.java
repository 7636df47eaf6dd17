package dev.users.adapter.grpc;

import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Metadata;
import dev.users.application.access.Caller;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import java.util.ArrayList;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The interceptors the server's calls pass, in the order they need: those of every service, and
 * those that belong to the users API alone.
 */
public final class CallInterceptors {

  private CallInterceptors() {}

  /**
   * Installs on every service (health and reflection too), from the outermost (first to see a
   * call):
   *
   * <ol>
   *   <li>{@link RequestIdInterceptor}, so that every line the others log carries the request id,
   *       and the id reaches the response however the call ends;
   *   <li>{@link AccessLogInterceptor}, so that the logged status and duration include a close
   *       made by the users API's deadline.
   * </ol>
   *
   * <p>{@link ServerBuilder#intercept} runs the interceptor added last first, hence the reverse
   * order below.
   */
  public static void installOn(ServerBuilder<?> server) {
    server.intercept(new AccessLogInterceptor());
    server.intercept(new RequestIdInterceptor());
  }

  /**
   * The users API with the interceptors that are its own, inside those of {@link #installOn}, from
   * the outermost:
   *
   * <ol>
   *   <li>{@code inFlight}, so that shutdown can end a call that outlives its grace through every
   *       interceptor outside the service's own ones (access log, request id);
   *   <li>{@code authentication}, so that a caller who cannot be authenticated costs no more than
   *       the check, and every interceptor inside it, like the service, sees the {@link Caller};
   *   <li>{@link RateLimitInterceptor}, when there is a limit: inside authentication, which it
   *       must follow to know the caller, and before any work is done for a refused call;
   *   <li>{@link DeadlinePolicyInterceptor}, so that everything inside it runs under a deadline;
   *   <li>for ImportUsers alone, a second one whose maximum is the import's duration cap, inside
   *       the first so that it shortens whatever deadline the call has by then;
   *   <li>{@link CallScopeInterceptor}, so that the use cases and storage see that deadline and the
   *       call's cancellation;
   *   <li>{@link UnexpectedErrorInterceptor}, next to the service, so that its close passes
   *       through the deadline's lock, the access log and the request id trailer.
   * </ol>
   *
   * <p>Attached to the service rather than to the server: a health Watch is meant to stay open
   * until shutdown, and reflection has rules of its own.
   *
   * @param inFlight the calls shutdown ends when its grace is over
   * @param rateLimit the calls each caller may make, if they are limited
   * @param imports the caps of one ImportUsers call; its item cap is enforced by the service
   * @param scheduler runs the expiry of the deadlines the policy sets
   */
  public static ServerServiceDefinition usersApi(ServerServiceDefinition service, CallsInFlight inFlight,
      AuthenticationInterceptor authentication, DeadlinePolicy deadlines, Optional<RateLimit> rateLimit,
      ImportLimits imports, ScheduledExecutorService scheduler) {
    var interceptors = new ArrayList<ServerInterceptor>();
    interceptors.add(inFlight);
    interceptors.add(authentication);
    rateLimit.map(RateLimitInterceptor::new).ifPresent(interceptors::add);
    interceptors.add(new DeadlinePolicyInterceptor(deadlines, scheduler));
    interceptors.add(importDurationCap(imports, scheduler));
    interceptors.add(new CallScopeInterceptor());
    interceptors.add(new UnexpectedErrorInterceptor());
    return ServerInterceptors.interceptForward(service, interceptors);
  }

  private static ServerInterceptor importDurationCap(ImportLimits imports, ScheduledExecutorService scheduler) {
    var cap = imports.maxDuration();
    var capped = new DeadlinePolicyInterceptor(new DeadlinePolicy(cap, cap, Optional.of(cap), false), scheduler);
    var importUsers = UserServiceGrpc.getImportUsersMethod().getFullMethodName();
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        return call.getMethodDescriptor().getFullMethodName().equals(importUsers)
            ? capped.interceptCall(call, headers, next)
            : next.startCall(call, headers);
      }
    };
  }
}
