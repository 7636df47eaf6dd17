package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class TimeOrderedUserIdGeneratorTest {

  private final TimeOrderedUserIdGenerator ids = new TimeOrderedUserIdGenerator();

  @Test
  void idsAreVersion7WithTheirCreationTime() {
    long before = System.currentTimeMillis();
    UUID id = ids.next().value();
    long after = System.currentTimeMillis();

    assertThat(id.version()).isEqualTo(7);
    assertThat(id.variant()).isEqualTo(2);
    assertThat(id.getMostSignificantBits() >>> 16).isBetween(before, after);
  }

  @Test
  void idsFromManyVirtualThreadsAreUniqueAndIncreaseInEachThread() throws Exception {
    int threads = 64;
    int perThread = 2_000;
    var tasks = new ArrayList<Callable<List<UUID>>>();
    for (int t = 0; t < threads; t++) {
      tasks.add(() -> {
        var mine = new ArrayList<UUID>(perThread);
        for (int i = 0; i < perThread; i++) {
          mine.add(ids.next().value());
        }
        return mine;
      });
    }
    var all = new HashSet<UUID>();
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      for (Future<List<UUID>> result : executor.invokeAll(tasks)) {
        var mine = result.get();
        for (int i = 1; i < mine.size(); i++) {
          assertThat(compareUnsigned(mine.get(i - 1), mine.get(i))).as("id %d of a thread", i).isNegative();
        }
        all.addAll(mine);
      }
    }
    assertThat(all).hasSize(threads * perThread);
  }

  @Test
  void idsKeepIncreasingWhenTheWallClockStepsBack() {
    var times = new ArrayDeque<>(List.of(1_000L, 1_000L, 999L, 990L, 1_001L));
    var steppingBack = new TimeOrderedUserIdGenerator(times::removeFirst);

    var issued = new ArrayList<UUID>();
    while (!times.isEmpty()) {
      issued.add(steppingBack.next().value());
    }

    for (int i = 1; i < issued.size(); i++) {
      assertThat(compareUnsigned(issued.get(i - 1), issued.get(i))).as("id %d", i).isNegative();
    }
    assertThat(issued.get(3).getMostSignificantBits() >>> 16).as("the time of an id made while the clock was behind")
        .isEqualTo(1_000L);
    assertThat(issued.get(4).getMostSignificantBits() >>> 16).isEqualTo(1_001L);
  }

  @Test
  void theRandomBitsDifferBetweenGenerators() {
    // Two processes starting in the same millisecond must not issue the same ids.
    UUID first = ids.next().value();
    UUID second = new TimeOrderedUserIdGenerator().next().value();

    assertThat(second.getLeastSignificantBits()).isNotEqualTo(first.getLeastSignificantBits());
  }

  /** The order of the ids' bytes, the order PostgreSQL's uuid type and the index keep. */
  private static int compareUnsigned(UUID a, UUID b) {
    int high = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
    return high != 0 ? high : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
  }
}
