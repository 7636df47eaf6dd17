package dev.users.bootstrap;

import dev.users.adapter.persistence.StorageStartupException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;
import sun.misc.Signal;

/**
 * Starts the service from environment variables and stops it gracefully on SIGTERM or SIGINT.
 *
 * <p>Exit codes: 0 after a clean shutdown, 1 when start-up fails (database unreachable, port
 * taken), 2 for a bad configuration or an unknown argument.
 *
 * <p>The documented launch is {@code bin/users-service}, which runs this on a JDK 21 or newer with
 * the JVM options chosen for the service and, on JDK 25, its AOT cache. With the single argument
 * {@value AotTraining#ARGUMENT} it trains that cache instead of serving: see {@link AotTraining}.
 */
public final class Main {

  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();

    if (args.length == 1 && args[0].equals(AotTraining.ARGUMENT)) {
      // The service's logging as it runs by default, so that the cache holds its classes.
      Logging.configure(Config.from(Map.of()).logs());
      AotTraining.run(System.getenv());
      // grpc-java's and HikariCP's threads may outlive their owners by a moment; the JVM writes the
      // AOT cache as it exits.
      System.exit(0);
      return;
    }
    if (args.length > 0) {
      System.err.println("users-service: unknown argument \"" + args[0] + "\"; the service takes none"
          + " (settings are environment variables)");
      System.exit(2);
      return;
    }

    Config config;
    try {
      config = Config.from(System.getenv());
    } catch (ConfigException e) {
      System.err.println("users-service: invalid configuration: " + e.getMessage());
      System.exit(2);
      return;
    }
    // Before any line is logged. Until here, nothing logs: a bad setting is one line on stderr.
    Logging.configure(config.logs());

    // The JVM's own handling of SIGTERM and SIGINT runs the shutdown hooks and then exits with
    // 128 + the signal, whatever they do; only replacing its handler lets a clean shutdown end
    // with the documented 0. sun.misc.Signal (module jdk.unsupported) is the JDK's only way to do
    // that; halting with 0 from a hook instead would cut short the other hooks. The hook stays for
    // every other way the JVM may end (SIGHUP, System.exit elsewhere), where it stops the server
    // just the same. The handlers are in place before the server logs that it listens, so that a
    // signal sent on that line gets the clean shutdown; one that arrives earlier, during start-up,
    // ends the process as the JVM would have, with 128 + the signal.
    var running = new AtomicReference<UsersServer>();
    for (var name : List.of("TERM", "INT")) {
      Signal.handle(new Signal(name), signal -> {
        var started = running.get();
        if (started == null) {
          System.exit(128 + signal.getNumber());
        }
        started.stop();
        System.exit(0);
      });
    }
    // Logging stops after the server, so that the access lines still queued and the last line
    // ("stopped") are written.
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("users-shutdown").unstarted(() -> {
      var started = running.get();
      if (started != null) {
        started.stop();
      }
      Logging.stop();
    }));
    var failed = start(config, running::set);
    if (failed.isPresent()) {
      System.exit(failed.getAsInt());
      return;
    }
    running.get().awaitTermination();
  }

  /**
   * Starts serving, or says in one line why it cannot.
   *
   * @return empty once the server serves; otherwise the exit code to end with: 2 for a setting that
   *     no longer holds (a TLS file broken between reading the settings and starting), 1 for
   *     storage or a port
   */
  static OptionalInt start(Config config, Consumer<UsersServer> started) {
    // Before anything else, the server's class and logging included: storage takes longest.
    var openTelemetry = Tracing.fromEnvironment(System.getenv());
    var storage = Storage.openInBackground(config, openTelemetry);
    try {
      UsersServer.start(config, storage, openTelemetry, started);
      return OptionalInt.empty();
    } catch (ConfigException e) {
      System.err.println("users-service: invalid configuration: " + e.getMessage());
      return OptionalInt.of(2);
    } catch (StorageStartupException | UncheckedIOException e) {
      LoggerFactory.getLogger(Main.class).error("users-service cannot start: {}", e.getMessage());
      return OptionalInt.of(1);
    }
  }
}
