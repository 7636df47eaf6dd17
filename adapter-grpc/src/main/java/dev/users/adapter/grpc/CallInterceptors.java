package dev.users.adapter.grpc;

import io.grpc.ServerBuilder;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;

/** The interceptors every call of the server passes, installed in the order they need. */
public final class CallInterceptors {

  private CallInterceptors() {}

  /**
   * Installs, from the outermost (first to see a call) to the innermost:
   *
   * <ol>
   *   <li>{@link RequestIdInterceptor}, so that every line the others log carries the request id,
   *       and the id reaches the response however the call ends;
   *   <li>{@link AccessLogInterceptor}, so that the logged status and duration include a close
   *       made by the default deadline;
   *   <li>{@link DefaultDeadlineInterceptor}, so that everything inside it runs under a deadline;
   *   <li>{@link UnexpectedErrorInterceptor}, next to the service, so that its close passes
   *       through the deadline's lock, the access log and the request id trailer.
   * </ol>
   *
   * <p>{@link ServerBuilder#intercept} runs the interceptor added last first, hence the reverse
   * order below.
   *
   * @param defaultDeadline the deadline of calls that arrive without one
   * @param scheduler runs the expiry of default deadlines
   */
  public static void installOn(
      ServerBuilder<?> server, Duration defaultDeadline, ScheduledExecutorService scheduler) {
    server.intercept(new UnexpectedErrorInterceptor());
    server.intercept(new DefaultDeadlineInterceptor(defaultDeadline, scheduler));
    server.intercept(new AccessLogInterceptor());
    server.intercept(new RequestIdInterceptor());
  }
}
