package dev.users.benchmark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * The CPU time of the local PostgreSQL server, read from {@code /proc}: the postmaster, its live
 * children, and the children it has already reaped (a backend whose connection closed during a
 * phase). Two figures per phase:
 *
 * <ul>
 *   <li><b>all</b>: every PostgreSQL process, background writers and other databases' backends
 *       included, which is what the server spent, whoever asked;
 *   <li><b>this database</b>: only the backends connected to the benchmark's scratch database
 *       (their process title names it), sampled every 100 ms so that a backend that exits during
 *       the phase still counts, up to its last sample. Other sessions' load on the same server
 *       does not reach it.
 * </ul>
 */
final class PostgresCpu {

  private static final long SAMPLE_MILLIS = 100;

  private final long postmaster;
  private final String database;
  private final Map<Long, Boolean> ownBackends = new ConcurrentHashMap<>();

  private PostgresCpu(long postmaster, String database) {
    this.postmaster = postmaster;
    this.database = database;
  }

  /**
   * The local server's postmaster: the {@code postgres} process whose parent is not one. Empty
   * when no PostgreSQL runs on this machine (or it runs where its processes cannot be seen).
   */
  static Optional<PostgresCpu> find(String database) throws IOException {
    try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
      var postgres = entries.map(path -> path.getFileName().toString())
          .filter(name -> name.chars().allMatch(Character::isDigit))
          .map(name -> ProcStat.read(Long.parseLong(name)))
          .flatMap(Optional::stream)
          .filter(stat -> stat.comm().equals("postgres"))
          .toList();
      var pids = postgres.stream().map(ProcStat::pid).toList();
      return postgres.stream()
          .filter(stat -> !pids.contains(stat.ppid()))
          .map(stat -> new PostgresCpu(stat.pid(), database))
          .findFirst();
    }
  }

  long postmasterPid() {
    return postmaster;
  }

  /** Starts counting; {@link Phase#stop()} ends it. */
  Phase start() {
    return new Phase();
  }

  /** CPU ticks spent during one phase. */
  record Ticks(long all, long ownDatabase) {}

  final class Phase {

    private final long allAtStart = allTicks();
    private final Map<Long, Long> ownAtStart = ownTicks();
    private final Map<Long, Long> ownLatest = new HashMap<>(ownAtStart);
    private final Thread sampler;

    private Phase() {
      sampler = Thread.ofPlatform().daemon(true).name("postgres-cpu").start(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          sample();
          try {
            Thread.sleep(SAMPLE_MILLIS);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
    }

    private synchronized void sample() {
      ownLatest.putAll(ownTicks());
    }

    Ticks stop() throws InterruptedException {
      sampler.interrupt();
      sampler.join();
      sample();
      long own = 0;
      synchronized (this) {
        for (var entry : ownLatest.entrySet()) {
          own += entry.getValue() - ownAtStart.getOrDefault(entry.getKey(), 0L);
        }
      }
      return new Ticks(allTicks() - allAtStart, own);
    }
  }

  /**
   * A backend that has exited but is not yet reaped shows no CPU time of its own, and not yet in
   * the postmaster's {@code cutime} either (a pgbench client's backend, just after pgbench ends).
   * The total is read once the postmaster has reaped them, within a bounded wait.
   */
  private long allTicks() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (System.nanoTime() < deadline && children().stream()
        .anyMatch(child -> ProcStat.read(child).map(ProcStat::zombie).orElse(false))) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
    }
    var self = ProcStat.read(postmaster).orElseThrow(
        () -> new IllegalStateException("the PostgreSQL postmaster " + postmaster + " has exited"));
    long ticks = self.ticks() + self.reapedChildrenTicks();
    for (long child : children()) {
      ticks += ProcStat.read(child).map(ProcStat::ticks).orElse(0L);
    }
    return ticks;
  }

  private Map<Long, Long> ownTicks() {
    var ticks = new HashMap<Long, Long>();
    for (long child : children()) {
      var own = ownBackends.get(child);
      if (own == null) {
        // A child just forked still has the postmaster's command line: it is decided once it has
        // a title of its own.
        var title = ProcStat.commandLine(child).filter(text -> text.startsWith("postgres: "));
        if (title.isEmpty()) {
          continue;
        }
        own = isOwnBackend(title.get());
        ownBackends.put(child, own);
      }
      if (own) {
        ProcStat.read(child).ifPresent(stat -> ticks.put(child, stat.ticks()));
      }
    }
    return ticks;
  }

  /**
   * A backend's process title is {@code postgres: [<cluster name>: ]<user> <database> <host>(<port>)
   * <state>}; the scratch database's name is random, so no other word matches it.
   */
  private boolean isOwnBackend(String title) {
    return List.of(title.split(" +")).contains(database);
  }

  private List<Long> children() {
    var listing = Path.of("/proc", Long.toString(postmaster), "task", Long.toString(postmaster), "children");
    try {
      var children = new ArrayList<Long>();
      for (var pid : Files.readString(listing).trim().split(" +")) {
        if (!pid.isEmpty()) {
          children.add(Long.parseLong(pid));
        }
      }
      return children;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the PostgreSQL server's children from " + listing, e);
    }
  }
}
