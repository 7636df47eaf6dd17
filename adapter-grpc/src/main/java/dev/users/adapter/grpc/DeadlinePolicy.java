package dev.users.adapter.grpc;

import io.grpc.MethodDescriptor.MethodType;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How long a call of the users API may run, in the manner of Armeria's {@code GrpcTimeoutPolicy}:
 * the deadline a call gets when it arrives without one, depending on its kind, and the longest one
 * it may ask for.
 *
 * @param unaryDefault the deadline of a unary call sent without one
 * @param streamDefault the deadline of a streaming call (ListUsers, ImportUsers) sent without one;
 *     a stream carries a whole listing or import, so it rightly runs longer than one lookup
 * @param max the longest deadline a call may have, if any: a longer one is shortened to it, and the
 *     defaults are capped by it too
 * @param required whether a call sent without a deadline is refused (INVALID_ARGUMENT) rather than
 *     given a default
 */
public record DeadlinePolicy(Duration unaryDefault, Duration streamDefault, Optional<Duration> max, boolean required) {

  public DeadlinePolicy {
    requirePositive(unaryDefault, "unary default deadline");
    requirePositive(streamDefault, "stream default deadline");
    Objects.requireNonNull(max, "max").ifPresent(cap -> requirePositive(cap, "maximum deadline"));
  }

  /** The same default for every kind of call, no cap, no requirement. */
  public static DeadlinePolicy defaultingTo(Duration deadline) {
    return new DeadlinePolicy(deadline, deadline, Optional.empty(), false);
  }

  /** The deadline of a call of {@code type} sent without one. */
  Duration defaultFor(MethodType type) {
    var fallback = type == MethodType.UNARY ? unaryDefault : streamDefault;
    return max.filter(cap -> cap.compareTo(fallback) < 0).orElse(fallback);
  }

  private static void requirePositive(Duration duration, String name) {
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("the " + name + " must be positive, got " + duration);
    }
  }
}
