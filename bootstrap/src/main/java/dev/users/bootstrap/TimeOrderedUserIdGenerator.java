package dev.users.bootstrap;

import com.fasterxml.uuid.UUIDClock;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;
import dev.users.application.port.UserIdGenerator;
import dev.users.domain.UserId;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Version 7 UUIDs (RFC 9562): a millisecond timestamp followed by random bits, so ids sort by
 * creation time and new rows land at the right edge of the primary-key index. Every id is greater
 * than the one issued before it: within one millisecond, and when the wall clock steps back.
 *
 * <p>The library's generator reads the clock before it takes its lock, and draws new random bits
 * whenever the time it is given differs from the last, earlier or not: a caller delayed between
 * the two could get an id below the one it got just before. So the clock is read here, under a
 * lock of this generator's, and never allowed to go back.
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
  private final LongSupplier clockMillis;
  private final ReentrantLock lock = new ReentrantLock();
  private long lastMillis;

  TimeOrderedUserIdGenerator() {
    this(System::currentTimeMillis);
  }

  /** @param clockMillis the wall clock, in milliseconds since the epoch */
  TimeOrderedUserIdGenerator(LongSupplier clockMillis) {
    this.clockMillis = clockMillis;
  }

  @Override
  public UserId next() {
    lock.lock();
    try {
      lastMillis = Math.max(lastMillis, clockMillis.getAsLong());
      return new UserId(generator.construct(lastMillis));
    } finally {
      lock.unlock();
    }
  }

  /** The library's generator, its random bytes drawn by {@code ThreadLocalRandom.current()} in each call. */
  private static final class ThreadLocalRandomEpochGenerator extends TimeBasedEpochGenerator {

    ThreadLocalRandomEpochGenerator() {
      // ThreadLocalRandom.current() must be called by the thread that uses it, so in each call.
      // The clock is never read: next() gives construct() the time.
      super(bytes -> ThreadLocalRandom.current().nextBytes(bytes), UUIDClock.systemTimeClock());
    }
  }
}
