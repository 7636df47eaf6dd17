package dev.users.bootstrap;

import com.fasterxml.uuid.UUIDClock;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;
import dev.users.application.port.UserIdGenerator;
import dev.users.domain.UserId;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Version 7 UUIDs (RFC 9562): a millisecond timestamp followed by random bits, so ids sort by
 * creation time and new rows land at the right edge of the primary-key index. The generator keeps
 * ids increasing even within one millisecond.
 *
 * <p>The random bits come from the calling thread's {@link ThreadLocalRandom}, not from the
 * library's default shared {@code SecureRandom}: an id must be unique, not secret (it is shown to
 * every caller who may read the user), and uniqueness within this process is the generator's
 * increasing order, not chance. Between processes 74 random bits keep collisions out of reach.
 * The shared {@code SecureRandom} serialised every new millisecond's id behind one lock and a
 * read of the operating system's random source.
 */
final class TimeOrderedUserIdGenerator implements UserIdGenerator {

  private final TimeBasedEpochGenerator generator = new ThreadLocalRandomEpochGenerator();

  @Override
  public UserId next() {
    return new UserId(generator.generate());
  }

  /** The library's generator, its random bytes drawn by {@code ThreadLocalRandom.current()} in each call. */
  private static final class ThreadLocalRandomEpochGenerator extends TimeBasedEpochGenerator {

    ThreadLocalRandomEpochGenerator() {
      // ThreadLocalRandom.current() must be called by the thread that uses it, so in each call.
      super(bytes -> ThreadLocalRandom.current().nextBytes(bytes), UUIDClock.systemTimeClock());
    }
  }
}
