package dev.users.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Gives every call that has no deadline of its own one that starts when the call starts. A
 * deadline set once on a long-lived stub would be an instant, already past for every call made
 * after it; the timeouts travel instead in the call options and become a deadline here, per call.
 * grpc-java's retries of a call share the deadline set here, so retrying never extends it.
 */
final class CallDeadlines implements ClientInterceptor {

  /** How long unary calls and streaming calls may take. */
  record Timeouts(Duration unary, Duration streaming) {}

  static final CallOptions.Key<Timeouts> TIMEOUTS = CallOptions.Key.create("users-client-timeouts");

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
    var timeouts = callOptions.getOption(TIMEOUTS);
    if (callOptions.getDeadline() == null && timeouts != null) {
      var timeout = method.getType() == MethodDescriptor.MethodType.UNARY ? timeouts.unary() : timeouts.streaming();
      callOptions = callOptions.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }
    return next.newCall(method, callOptions);
  }
}
