package dev.users.application;

import dev.users.adapter.persistence.memory.InMemoryUserRepository;
import dev.users.application.access.Caller;
import dev.users.application.port.UserIdGenerator;
import dev.users.application.register.RegisterUserCommand;
import dev.users.application.register.RegisterUserService;
import dev.users.domain.User;
import dev.users.domain.UserId;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.UUID;

/**
 * What the use-case tests run on: the real services over an {@link InMemoryUserRepository}, a
 * clock the test moves, and ids that count up.
 *
 * <p>The use-case tests live in this module, in the packages of their use cases, because {@code
 * application} cannot depend on an adapter: Maven would see a cycle.
 */
public final class UseCaseFixture {

  /** A caller every use case serves: the access rules have tests of their own. */
  public static final Caller ADMIN = Caller.unauthenticatedAdministrator();

  public static final Instant START = Instant.parse("2026-03-04T05:06:07.123456Z");

  private final InMemoryUserRepository users = new InMemoryUserRepository();
  private final SteppingClock clock = new SteppingClock();
  private final CountingIds ids = new CountingIds();

  public InMemoryUserRepository users() {
    return users;
  }

  public Clock clock() {
    return clock;
  }

  public UserIdGenerator ids() {
    return ids;
  }

  /** Moves the clock forward. */
  public void advance(Duration duration) {
    clock.now = clock.now.plus(duration);
  }

  /** The id the generator hands out {@code n}-th, counting from 1. */
  public static UserId nthId(long n) {
    return new UserId(new UUID(0x0000_0000_0000_7000L, 0x8000_0000_0000_0000L + n));
  }

  /** Registers a user through the real use case, as a test's starting point. */
  public User registered(String email, String displayName) {
    return new RegisterUserService(users, ids, clock).register(ADMIN, RegisterUserCommand.of(email, displayName, ""))
        .toCompletableFuture().join();
  }

  private static final class SteppingClock extends Clock {

    private volatile Instant now = START;

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException("the use cases work in UTC instants");
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private static final class CountingIds implements UserIdGenerator {

    private long issued;

    @Override
    public synchronized UserId next() {
      return nthId(++issued);
    }
  }
}
