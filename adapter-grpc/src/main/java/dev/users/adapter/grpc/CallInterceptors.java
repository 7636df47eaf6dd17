package dev.users.adapter.grpc;

import dev.users.application.access.Caller;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
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
   *   <li>{@code authentication}, so that a caller who cannot be authenticated costs no more than
   *       the check, and every interceptor inside it, like the service, sees the {@link Caller};
   *   <li>{@link DeadlinePolicyInterceptor}, so that everything inside it runs under a deadline;
   *   <li>{@link CallScopeInterceptor}, so that the use cases and storage see that deadline and the
   *       call's cancellation;
   *   <li>{@link UnexpectedErrorInterceptor}, next to the service, so that its close passes
   *       through the deadline's lock, the access log and the request id trailer.
   * </ol>
   *
   * <p>Attached to the service rather than to the server: a health Watch is meant to stay open
   * until shutdown, and reflection has rules of its own.
   *
   * @param scheduler runs the expiry of the deadlines the policy sets
   */
  public static ServerServiceDefinition usersApi(ServerServiceDefinition service,
      AuthenticationInterceptor authentication, DeadlinePolicy deadlines, ScheduledExecutorService scheduler) {
    return ServerInterceptors.interceptForward(service,
        authentication,
        new DeadlinePolicyInterceptor(deadlines, scheduler),
        new CallScopeInterceptor(),
        new UnexpectedErrorInterceptor());
  }
}
