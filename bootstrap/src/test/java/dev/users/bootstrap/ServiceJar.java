package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The packaged service jar run as an operator runs it, through {@code bin/users-service} (its JVM
 * options, and its AOT cache on JDK 25): a separate JVM configured by environment variables, its
 * merged stdout and stderr collected line by line. Started only through a
 * {@link Launcher}, which destroys it after the test whatever the test's outcome.
 */
final class ServiceJar {

  private static final Path JAR = Path.of("target", "users-service.jar");
  private static final Path LAUNCHER = Path.of("..", "bin", "users-service");
  private static final Pattern LISTENING = Pattern.compile("listening on port (\\d+)");
  private static final Pattern RESIDENT = Pattern.compile("VmRSS:\\s+(\\d+) kB");

  final Process process;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Thread reader;

  private ServiceJar(Process process) {
    this.process = process;
    this.reader = Thread.ofPlatform().daemon(true).start(() -> {
      try (var output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        output.lines().forEach(lines::add);
      } catch (IOException e) {
        lines.add("(output unreadable: " + e.getMessage() + ")");
      }
    });
  }

  /**
   * A JUnit extension that starts service jars and, after each test, kills every one still
   * running and waits for it to go: a failed assertion must not leave a service JVM behind.
   * It does so right after the test method, before the test's own {@code @AfterEach} clean-up
   * (such as dropping the service's schema) and again after it, for a process started there.
   */
  static final class Launcher implements AfterTestExecutionCallback, AfterEachCallback {

    private final List<ServiceJar> started = new CopyOnWriteArrayList<>();

    ServiceJar start(Map<String, String> settings, String... arguments) throws IOException {
      assertThat(JAR).as("the service jar is built by the package phase").exists();
      var command = new ArrayList<String>(List.of(LAUNCHER.toString()));
      command.addAll(List.of(arguments));
      var builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.environment().keySet().removeIf(name -> name.startsWith("USERS_") || name.equals("JAVA_OPTS"));
      builder.environment().putAll(settings);
      var service = new ServiceJar(builder.start());
      started.add(service);
      return service;
    }

    @Override
    public void afterTestExecution(ExtensionContext context) throws InterruptedException {
      destroyAll();
    }

    @Override
    public void afterEach(ExtensionContext context) throws InterruptedException {
      destroyAll();
    }

    private void destroyAll() throws InterruptedException {
      for (var service : started) {
        service.process.destroyForcibly();
        if (!service.process.waitFor(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("service jar pid " + service.process.pid() + " survived SIGKILL for 30 s");
        }
      }
      started.clear();
    }
  }

  /** Waits for the process to exit by itself and returns its exit code. */
  int exitCode() throws InterruptedException {
    if (!awaitExit(Duration.ofSeconds(30))) {
      throw new AssertionError("the service did not exit within 30 s; output: " + lines);
    }
    return process.exitValue();
  }

  /** Whether the process exited by itself within {@code timeout}; its output is complete if so. */
  boolean awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      return false;
    }
    reader.join(TimeUnit.SECONDS.toMillis(10));
    return true;
  }

  /** Asks the service to stop, as an orchestrator does: SIGTERM, without closing its output. */
  void sigterm() {
    process.toHandle().destroy();
  }

  List<String> output() {
    return List.copyOf(lines);
  }

  int awaitPort() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && process.isAlive()) {
      for (var line : lines) {
        var matcher = LISTENING.matcher(line);
        if (matcher.find()) {
          return Integer.parseInt(matcher.group(1));
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the service did not report its port; output: " + lines);
  }

  /** The process's resident set size (Linux {@code /proc/<pid>/status}), in KiB. */
  long residentKib() {
    try {
      var status = Files.readString(Path.of("/proc", Long.toString(process.pid()), "status"));
      var matcher = RESIDENT.matcher(status);
      if (!matcher.find()) {
        throw new IllegalStateException("no VmRSS in /proc/" + process.pid() + "/status");
      }
      return Long.parseLong(matcher.group(1));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
