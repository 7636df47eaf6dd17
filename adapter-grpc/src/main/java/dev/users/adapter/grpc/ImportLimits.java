package dev.users.adapter.grpc;

import java.time.Duration;

/**
 * How much one ImportUsers call may carry, so that one stream cannot hold a call slot, a thread
 * and the database for ever. Stated in users.proto.
 *
 * @param maxItems items one call may send; the call that sends more is answered
 *     RESOURCE_EXHAUSTED once the first {@code maxItems} are processed, with their result
 * @param maxDuration the longest one call may run, whatever deadline the client asks for: an
 *     ImportUsers call's maximum deadline, on top of the users API's own
 */
public record ImportLimits(long maxItems, Duration maxDuration) {

  public ImportLimits {
    if (maxItems < 1) {
      throw new IllegalArgumentException("an import must accept at least one item, got " + maxItems);
    }
    if (maxDuration.isNegative() || maxDuration.isZero()) {
      throw new IllegalArgumentException("the import duration cap must be positive, got " + maxDuration);
    }
  }
}
