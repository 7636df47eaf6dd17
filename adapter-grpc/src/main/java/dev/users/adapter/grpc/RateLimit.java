package dev.users.adapter.grpc;

import java.time.Duration;

/**
 * How many calls of the users API one caller may make: {@code calls} per {@code period}, in bursts
 * of up to {@code calls}, refilled evenly over the period (a token bucket).
 *
 * @param calls the calls allowed per period, and the largest burst
 * @param period the time over which {@code calls} are refilled
 */
public record RateLimit(long calls, Duration period) {

  public RateLimit {
    if (calls < 1) {
      throw new IllegalArgumentException("a rate limit must allow at least one call, got " + calls);
    }
    if (period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("a rate limit's period must be positive, got " + period);
    }
  }

  /** For people: {@code 200 calls per second}, {@code 6000 calls per minute}. */
  String description() {
    var per = period.equals(Duration.ofSeconds(1)) ? "second"
        : period.equals(Duration.ofMinutes(1)) ? "minute"
        : period.toMillis() + " ms";
    return calls + (calls == 1 ? " call" : " calls") + " per " + per;
  }
}
