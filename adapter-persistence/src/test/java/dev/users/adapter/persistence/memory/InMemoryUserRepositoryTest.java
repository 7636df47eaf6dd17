package dev.users.adapter.persistence.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.users.adapter.persistence.Concurrently;
import dev.users.adapter.persistence.UserRepositoryContract;
import dev.users.application.port.UserRepository;
import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.User;
import dev.users.domain.UserId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class InMemoryUserRepositoryTest extends UserRepositoryContract {

  private static final int PAGE = 250;

  @Override
  protected UserRepository emptyRepository() {
    return new InMemoryUserRepository();
  }

  @Test
  void readsAPageAtTheSameCostWhateverTheSizeOfTheDirectoryAfterIt() {
    var small = directoryOf(1_000);
    var large = directoryOf(100_000);

    // The fastest of a few rounds, each of many pages: a pause of the machine does not count.
    long smallNanos = fastestOf(5, () -> readFirstPages(small, 400));
    long largeNanos = fastestOf(5, () -> readFirstPages(large, 400));

    System.out.printf("400 pages of %d: %.2f ms with 1,000 users, %.2f ms with 100,000%n",
        PAGE, smallNanos / 1e6, largeNanos / 1e6);
    // A page that walked the rest of the directory would cost about 100 times more in the large one.
    assertThat(largeNanos).isLessThan(10 * smallNanos);
  }

  @Test
  void answersLookupsWhileManyListingsRun() throws Exception {
    var users = directoryOf(100_000);
    var listingsDone = new AtomicBoolean();
    var tasks = new ArrayList<Callable<Long>>();
    for (int listing = 0; listing < 8; listing++) {
      tasks.add(() -> readFirstPages(users, 200));
    }
    tasks.add(() -> {
      long slowest = 0;
      for (long n = 1; n <= 2_000; n++) {
        long start = System.nanoTime();
        assertThat(users.findById(idOf(n * 37 % 100_000 + 1))).isPresent();
        slowest = Math.max(slowest, System.nanoTime() - start);
      }
      return slowest;
    });

    var results = Concurrently.run(tasks);

    var slowestLookup = Duration.ofNanos(results.getLast());
    System.out.println("slowest of 2,000 lookups during 8 listings of 200 pages each: " + slowestLookup);
    assertThat(results.subList(0, 8)).as("users listed by each listing").containsOnly(200L * PAGE);
    assertThat(slowestLookup).isLessThan(Duration.ofSeconds(1));
  }

  private static InMemoryUserRepository directoryOf(int size) {
    var users = new InMemoryUserRepository();
    users.addAll(LongStream.rangeClosed(1, size)
        .mapToObj(n -> User.register(idOf(n), new Email("user" + n + "@example.org"), new DisplayName("User " + n),
            Instant.EPOCH))
        .toList());
    return users;
  }

  private static UserId idOf(long n) {
    return new UserId(new UUID(0x0000_0000_0000_7000L, 0x8000_0000_0000_0000L + n));
  }

  /** Reads {@code pages} pages from the start of the directory again and again; returns the users read. */
  private static long readFirstPages(UserRepository users, int pages) {
    long read = 0;
    for (int page = 0; page < pages; page++) {
      read += users.listAfter(idOf(0), PAGE).size();
    }
    return read;
  }

  private static long fastestOf(int rounds, Runnable work) {
    return IntStream.range(0, rounds).mapToLong(round -> {
      long start = System.nanoTime();
      work.run();
      return System.nanoTime() - start;
    }).min().orElseThrow();
  }
}
