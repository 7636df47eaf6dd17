package dev.users.benchmark;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bulk paths: COPY in and ImportUsers once; then, after a warm-up of each, {@code rounds}
 * listings of every user interleaved with COPY out, the server's memory sampled throughout. Each
 * ceiling runs next to the phase it bounds, on the same rows' shape.
 */
final class Bulk {

  private final ServerProcess service;
  private final LoadGenerator load;
  private final CopyCeilings ceilings;
  private final PostgresCpu postgresCpu;
  private final int users;
  private final int rounds;
  private final String run;
  private final Path target;

  Bulk(ServerProcess service, LoadGenerator load, CopyCeilings ceilings, PostgresCpu postgresCpu, int users,
      int rounds, String run, Path target) {
    this.service = service;
    this.load = load;
    this.ceilings = ceilings;
    this.postgresCpu = postgresCpu;
    this.users = users;
    this.rounds = rounds;
    this.run = run;
    this.target = target;
  }

  /** Rows per second of each bulk path and its ceiling (NaN without PostgreSQL), and the heap's peak. */
  record Result(double copyInPerSecond, double importPerSecond, double listPerSecond, double copyOutPerSecond,
      double heapPeakMib) {}

  Result execute() throws Exception {
    double copyIn = Double.NaN;
    if (ceilings != null) {
      var copied = ceilings.copyIn(users);
      copyIn = copied.rowsPerSecond();
      Report.line("COPY in", "%,d rows in %.1f s: %,.0f rows/s (the ceiling of ImportUsers)", copied.rows(),
          copied.seconds(), copyIn);
    }

    long cpuBefore = service.cpuTicks();
    var postgres = postgresCpu == null ? null : postgresCpu.start();
    var imported = load.importUsers("bulk-" + run, users);
    long serverTicks = service.cpuTicks() - cpuBefore;
    var postgresTicks = postgres == null ? null : postgres.stop();
    double importRate = users / imported.seconds();
    Report.line("ImportUsers", "%,d users in %.1f s: %,.0f users/s (created %,d, rejected %,d), server CPU %.1f"
            + " us/user%s; ratio to COPY in %.2f (target >= 0.7)", users, imported.seconds(), importRate,
        imported.created(), imported.rejected(), BenchmarkMain.perCall(serverTicks, users),
        postgresTicks == null ? "" : String.format(Locale.ROOT, ", PostgreSQL CPU %.1f us/user (this database %.1f)",
            BenchmarkMain.perCall(postgresTicks.all(), users), BenchmarkMain.perCall(postgresTicks.ownDatabase(), users)),
        importRate / copyIn);
    if (imported.rejected() > 0) {
      throw new IllegalStateException("ImportUsers rejected " + imported.rejected() + " new users");
    }

    // Like the unary calls, the listing and its ceiling get a warm-up first, so that the measured
    // ones run the compiled paths rather than the JIT compiling them: a run lists only a few times.
    var warmListing = load.listUsers(0);
    Report.line("warm-up", "ListUsers %,d users in %.1f s: %,.0f users/s", warmListing.users(), warmListing.seconds(),
        warmListing.users() / warmListing.seconds());
    if (ceilings != null) {
      var warmCopy = ceilings.copyOut();
      Report.line("warm-up", "COPY out %,d rows in %.1f s: %,.0f rows/s", warmCopy.rows(), warmCopy.seconds(),
          warmCopy.rowsPerSecond());
    }

    long rssBefore = service.residentKib();
    var rssPeak = new AtomicLong(rssBefore);
    var rssSampler = Thread.ofPlatform().daemon(true).name("rss").start(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        ProcStat.residentKib(service.pid()).ifPresent(kib -> rssPeak.accumulateAndGet(kib, Math::max));
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    var listRates = new ArrayList<Double>();
    var copyOutRates = new ArrayList<Double>();
    long listed = 0;
    long listTicks = 0;
    double heapPeakMib;
    // Interleaved, a listing then its ceiling, so that both see the machine alike.
    try (var heap = JvmHeap.sample(service.pid(), 100, target.resolve("jstat-list.log"))) {
      for (int round = 1; round <= rounds; round++) {
        var label = "round " + round + "/" + rounds;
        long listingStart = service.cpuTicks();
        var listing = load.listUsers(0);
        long ticks = service.cpuTicks() - listingStart;
        listTicks += ticks;
        listed += listing.users();
        listRates.add(listing.users() / listing.seconds());
        Report.line(label, "ListUsers %,d users in %,d messages in %.1f s: %,.0f users/s, server CPU %.2f us/user",
            listing.users(), listing.messages(), listing.seconds(), listing.users() / listing.seconds(),
            BenchmarkMain.perCall(ticks, listing.users()));
        if (ceilings != null) {
          var copied = ceilings.copyOut();
          copyOutRates.add(copied.rowsPerSecond());
          Report.line(label, "COPY out %,d rows in %.1f s: %,.0f rows/s (the ceiling of ListUsers)", copied.rows(),
              copied.seconds(), copied.rowsPerSecond());
        }
      }
      heapPeakMib = heap.peakKib().stream().mapToDouble(kib -> kib / 1024.0).findFirst().orElse(Double.NaN);
    } finally {
      rssSampler.interrupt();
      rssSampler.join();
    }
    double listRate = Stats.median(listRates);
    Report.line("ListUsers", "median of %d listings %,.0f users/s, server CPU %.2f us/user", rounds, listRate,
        BenchmarkMain.perCall(listTicks, listed));
    Report.line("ListUsers memory", "heap used peak %.0f MiB (jstat -gc every 100 ms), RSS %.0f MiB before, peak %.0f MiB",
        heapPeakMib, rssBefore / 1024.0, rssPeak.get() / 1024.0);

    double copyOut = Double.NaN;
    if (ceilings != null) {
      copyOut = Stats.median(copyOutRates);
      Report.line("COPY out", "median of %d %,.0f rows/s; ratio of ListUsers %.2f (target >= 1.0)", rounds, copyOut,
          listRate / copyOut);
    }
    return new Result(copyIn, importRate, listRate, copyOut, heapPeakMib);
  }
}
