package dev.users.benchmark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One line of {@code /proc/<pid>/stat}: the figures the benchmark reads from it. CPU times are in
 * clock ticks of {@link #CLOCK_TICKS_PER_SECOND} per second, and cover every thread the process
 * ever had; {@code cutime}/{@code cstime} are those of its children that it has already waited for.
 *
 * @see <a href="https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html">proc_pid_stat(5)</a>
 */
record ProcStat(long pid, String comm, char state, long ppid, long utime, long stime, long cutime, long cstime) {

  /** {@code getconf CLK_TCK}: 100 on every Linux architecture the JDK runs on. */
  static final int CLOCK_TICKS_PER_SECOND = 100;

  /** Microseconds in one clock tick. */
  static final double MICROS_PER_TICK = 1e6 / CLOCK_TICKS_PER_SECOND;

  /**
   * Parses a stat line. The command name sits in parentheses and may itself hold spaces and
   * parentheses, so the fields after it are counted from the last closing parenthesis.
   */
  static ProcStat parse(String line) {
    int open = line.indexOf('(');
    int close = line.lastIndexOf(')');
    if (open < 0 || close < open) {
      throw new IllegalArgumentException("not a /proc/<pid>/stat line: " + line);
    }
    long pid = Long.parseLong(line.substring(0, open).trim());
    var rest = line.substring(close + 1).trim().split(" +");
    // rest[0] is field 3 (state): field n is rest[n - 3].
    if (rest.length < 15) {
      throw new IllegalArgumentException("too few fields in /proc/<pid>/stat line: " + line);
    }
    return new ProcStat(pid, line.substring(open + 1, close), rest[0].charAt(0), Long.parseLong(rest[1]),
        Long.parseLong(rest[11]), Long.parseLong(rest[12]), Long.parseLong(rest[13]), Long.parseLong(rest[14]));
  }

  /** Exited, and not yet waited for by its parent. */
  boolean zombie() {
    return state == 'Z';
  }

  /** The process's own CPU time, user and system, in ticks. */
  long ticks() {
    return utime + stime;
  }

  /** The CPU time of the children the process has waited for, in ticks. */
  long reapedChildrenTicks() {
    return cutime + cstime;
  }

  /** The stat of a running process, or empty once it has exited. */
  static Optional<ProcStat> read(long pid) {
    return readProcFile(pid, "stat").map(ProcStat::parse);
  }

  /**
   * The CPU time, in ticks, that the JIT compiler threads of the HotSpot JVM {@code pid} have used
   * so far: the part of its CPU time spent compiling code rather than running it, which falls
   * towards zero once the code a load runs is compiled. Zero once the process has exited. A
   * compiler thread that the JVM retires takes its ticks out of this sum (HotSpot starts and stops
   * them with the compile queue), so over a phase it may count a little less than was spent.
   */
  static long compilerTicks(long pid) {
    var tasks = Path.of("/proc", Long.toString(pid), "task");
    try (Stream<Path> threads = Files.list(tasks)) {
      return threads
          .map(thread -> readFile(thread.resolve("stat")))
          .flatMap(Optional::stream)
          .map(ProcStat::parse)
          .filter(ProcStat::compilerThread)
          .mapToLong(ProcStat::ticks)
          .sum();
    } catch (NoSuchFileException e) {
      return 0;
    } catch (IOException e) {
      if (Files.notExists(tasks)) {
        return 0;
      }
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A HotSpot JIT compiler thread: "C1 CompilerThread0", "C2 CompilerThread1", ..., which the
   * kernel keeps to their first 15 characters.
   */
  boolean compilerThread() {
    return comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre");
  }

  /** {@code VmRSS} of {@code /proc/<pid>/status}, in KiB, or empty once the process has exited. */
  static Optional<Long> residentKib(long pid) {
    return readProcFile(pid, "status").map(ProcStat::residentKib);
  }

  static long residentKib(String status) {
    for (var line : status.split("\n")) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.substring("VmRSS:".length()).replace("kB", "").trim());
      }
    }
    throw new IllegalArgumentException("no VmRSS line in /proc/<pid>/status");
  }

  /** The command line, arguments separated by spaces, or empty once the process has exited. */
  static Optional<String> commandLine(long pid) {
    return readProcFile(pid, "cmdline").map(text -> text.replace('\0', ' ').trim());
  }

  private static Optional<String> readProcFile(long pid, String name) {
    return readFile(Path.of("/proc", Long.toString(pid), name));
  }

  /** A file of /proc, or empty when its process or thread has exited. */
  private static Optional<String> readFile(Path file) {
    try {
      return Optional.of(Files.readString(file));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      // A process or thread that exits while its file is read reports ESRCH as an IOException.
      if (Files.notExists(file.getParent())) {
        return Optional.empty();
      }
      throw new UncheckedIOException(e);
    }
  }
}
