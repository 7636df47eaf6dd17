package dev.users.benchmark;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A process the benchmark starts: a server under measurement, or a tool. Its output goes straight
 * to a file, never through a pipe that could fill and block it. Every child still running when the
 * benchmark's JVM exits, normally or not, is killed by a shutdown hook.
 */
final class ChildProcess implements AutoCloseable {

  private static final Set<ChildProcess> RUNNING = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("kill-children").unstarted(
        () -> RUNNING.forEach(child -> child.process.destroyForcibly())));
  }

  private final String name;
  private final Process process;
  private final Path log;

  private ChildProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /**
   * Starts {@code command} in {@code directory} with {@code environment} added to this JVM's, its
   * standard output and error appended to {@code log}.
   */
  static ChildProcess start(String name, List<String> command, Path directory, Map<String, String> environment,
      Path log) throws IOException {
    var builder = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().putAll(environment);
    var child = new ChildProcess(name, builder.start(), log);
    RUNNING.add(child);
    return child;
  }

  String name() {
    return name;
  }

  long pid() {
    return process.pid();
  }

  Path log() {
    return log;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** User and system CPU time of the process so far, in clock ticks. */
  long cpuTicks() {
    return ProcStat.read(pid()).map(ProcStat::ticks)
        .orElseThrow(() -> new IllegalStateException(name + " (pid " + pid() + ") has exited; see " + log));
  }

  /** Resident set size, in KiB. */
  long residentKib() {
    return ProcStat.residentKib(pid())
        .orElseThrow(() -> new IllegalStateException(name + " (pid " + pid() + ") has exited; see " + log));
  }

  /** Waits for the process to end by itself; kills it after {@code seconds}. */
  int waitFor(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
    RUNNING.remove(this);
    return process.exitValue();
  }

  /** SIGTERM, then SIGKILL if the process has not ended within 15 s. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    waitFor(15);
  }
}
