package dev.users.client;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one retry policy of the client: UNAVAILABLE only, a bounded number of attempts, exponential
 * backoff with full jitter. grpc-java applies it through the service config to the calls that are
 * always safe to repeat; {@link UsersClient} applies the same numbers itself to conditional writes
 * (see {@link #delayBeforeRetry}), because a service config is chosen per method, not per request.
 */
record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, double backoffMultiplier) {

  static final RetryPolicy DEFAULT = new RetryPolicy(4, Duration.ofMillis(100), Duration.ofSeconds(2), 2.0);

  /** The trailer through which a server asks for a delay (or, negative, for no retry at all). */
  private static final Metadata.Key<String> PUSHBACK =
      Metadata.Key.of("grpc-retry-pushback-ms", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * The service config for {@code methods}: {@code round_robin} over every address the resolver
   * returns, and this policy on each named method. Names must be exact: grpc-java silently ignores
   * an entry that matches no method, which is why a test counts real attempts.
   */
  Map<String, ?> serviceConfig(List<MethodDescriptor<?, ?>> methods) {
    var names = methods.stream()
        .map(method -> Map.of("service", method.getServiceName(), "method", method.getBareMethodName()))
        .toList();
    // The JSON shape grpc-java parses: numbers are Doubles, durations strings in seconds.
    var retryPolicy = Map.of(
        "maxAttempts", (double) maxAttempts,
        "initialBackoff", seconds(initialBackoff),
        "maxBackoff", seconds(maxBackoff),
        "backoffMultiplier", backoffMultiplier,
        "retryableStatusCodes", List.of(Status.Code.UNAVAILABLE.name()));
    return Map.of(
        "loadBalancingConfig", List.of(Map.of("round_robin", Map.of())),
        "methodConfig", List.of(Map.of("name", names, "retryPolicy", retryPolicy)));
  }

  /**
   * How long to wait before attempt {@code failedAttempt + 1}, following grpc-java's own rules, or
   * empty when the call must not be retried: not UNAVAILABLE, attempts used up, or the server's
   * pushback says no.
   */
  Optional<Duration> delayBeforeRetry(int failedAttempt, Status status, Metadata trailers) {
    if (status.getCode() != Status.Code.UNAVAILABLE || failedAttempt >= maxAttempts) {
      return Optional.empty();
    }
    var pushback = trailers == null ? null : trailers.get(PUSHBACK);
    if (pushback != null) {
      try {
        var millis = Long.parseLong(pushback);
        return millis < 0 ? Optional.empty() : Optional.of(Duration.ofMillis(millis));
      } catch (NumberFormatException e) {
        return Optional.empty();
      }
    }
    var ceiling = Math.min(initialBackoff.toNanos() * Math.pow(backoffMultiplier, failedAttempt - 1),
        maxBackoff.toNanos());
    return Optional.of(Duration.ofNanos((long) (ThreadLocalRandom.current().nextDouble() * ceiling)));
  }

  private static String seconds(Duration duration) {
    return duration.toMillis() / 1000.0 + "s";
  }
}
