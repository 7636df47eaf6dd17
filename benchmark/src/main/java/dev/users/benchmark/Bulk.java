package dev.users.benchmark;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bulk paths, once per run: COPY in, ImportUsers, ListUsers with the server's memory
 * sampled, COPY out. Each ceiling runs next to the phase it bounds, on the same rows' shape.
 */
final class Bulk {

  private final ServerProcess service;
  private final LoadGenerator load;
  private final CopyCeilings ceilings;
  private final PostgresCpu postgresCpu;
  private final int users;
  private final String run;
  private final Path target;

  Bulk(ServerProcess service, LoadGenerator load, CopyCeilings ceilings, PostgresCpu postgresCpu, int users,
      String run, Path target) {
    this.service = service;
    this.load = load;
    this.ceilings = ceilings;
    this.postgresCpu = postgresCpu;
    this.users = users;
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
    LoadGenerator.Listed listed;
    double heapPeakMib;
    cpuBefore = service.cpuTicks();
    try (var heap = JvmHeap.sample(service.pid(), 100, target.resolve("jstat-list.log"))) {
      listed = load.listUsers(0);
      heapPeakMib = heap.peakKib().stream().mapToDouble(kib -> kib / 1024.0).findFirst().orElse(Double.NaN);
    } finally {
      rssSampler.interrupt();
      rssSampler.join();
    }
    serverTicks = service.cpuTicks() - cpuBefore;
    double listRate = listed.users() / listed.seconds();
    Report.line("ListUsers", "%,d users in %,d messages in %.1f s: %,.0f users/s, server CPU %.2f us/user",
        listed.users(), listed.messages(), listed.seconds(), listRate, BenchmarkMain.perCall(serverTicks, listed.users()));
    Report.line("ListUsers memory", "heap used peak %.0f MiB (jstat -gc every 100 ms), RSS %.0f MiB before, peak %.0f MiB",
        heapPeakMib, rssBefore / 1024.0, rssPeak.get() / 1024.0);

    double copyOut = Double.NaN;
    if (ceilings != null) {
      var copied = ceilings.copyOut();
      copyOut = copied.rowsPerSecond();
      Report.line("COPY out", "%,d rows in %.1f s: %,.0f rows/s (the ceiling of ListUsers); ratio of ListUsers %.2f"
          + " (target >= 1.0)", copied.rows(), copied.seconds(), copyOut, listRate / copyOut);
    }
    return new Result(copyIn, importRate, listRate, copyOut, heapPeakMib);
  }
}
