package dev.users.bootstrap;

import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;
import dev.users.application.port.UserIdGenerator;
import dev.users.domain.UserId;

/**
 * Version 7 UUIDs (RFC 9562): a millisecond timestamp followed by random bits, so ids sort by
 * creation time and new rows land at the right edge of the primary-key index. The generator keeps
 * ids increasing even within one millisecond.
 */
final class TimeOrderedUserIdGenerator implements UserIdGenerator {

  private final TimeBasedEpochGenerator generator = Generators.timeBasedEpochGenerator();

  @Override
  public UserId next() {
    return new UserId(generator.generate());
  }
}
