package dev.users.benchmark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * The used heap of another JVM, sampled by {@code jstat -gc <pid> <interval>}: jstat reads the
 * counters the JVM publishes in its hsperfdata file, so it neither attaches to the process nor
 * stops it at a safepoint, and the service needs no metrics endpoint turned on for it (which would
 * add its own cost to every call). Used heap is the survivor, eden and old spaces' used columns.
 */
final class JvmHeap implements AutoCloseable {

  private static final List<String> USED_COLUMNS = List.of("S0U", "S1U", "EU", "OU");

  private final ChildProcess jstat;

  private JvmHeap(ChildProcess jstat) {
    this.jstat = jstat;
  }

  /** Starts sampling {@code pid} every {@code intervalMillis}, into {@code log}. */
  static JvmHeap sample(long pid, int intervalMillis, Path log) throws IOException, InterruptedException {
    var java = Path.of(ProcessHandle.current().info().command().orElse("java"));
    var jstat = java.resolveSibling("jstat").toString();
    Files.deleteIfExists(log);
    var heap = new JvmHeap(ChildProcess.start("jstat", List.of(jstat, "-gc", Long.toString(pid), intervalMillis + "ms"),
        log.getParent(), Map.of(), log));
    // jstat is a JVM of its own, slower to start than a short phase lasts: the phase waits for its
    // first sample (or its failure, which leaves the heap unknown, not the run failed).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (heap.jstat.isAlive() && heap.peakKib().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    return heap;
  }

  /** The highest used heap of the samples so far, in KiB; empty when jstat printed none. */
  OptionalLong peakKib() throws IOException {
    return peakUsedKib(Files.readString(jstat.log()));
  }

  /** Parses {@code jstat -gc} output: a header line, then one line of KiB figures per sample. */
  static OptionalLong peakUsedKib(String output) {
    List<String> header = null;
    long peak = -1;
    for (var line : output.split("\n")) {
      var fields = List.of(line.trim().split(" +"));
      if (fields.containsAll(USED_COLUMNS)) {
        header = fields;
      } else if (header != null && fields.size() == header.size()) {
        double used = 0;
        for (var column : USED_COLUMNS) {
          used += Double.parseDouble(fields.get(header.indexOf(column)));
        }
        peak = Math.max(peak, (long) used);
      }
    }
    return peak < 0 ? OptionalLong.empty() : OptionalLong.of(peak);
  }

  @Override
  public void close() throws InterruptedException {
    jstat.close();
  }
}
