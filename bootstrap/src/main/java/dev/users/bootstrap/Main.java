package dev.users.bootstrap;

import dev.users.adapter.persistence.StorageStartupException;
import java.io.UncheckedIOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Starts the service from environment variables and stops it gracefully on SIGTERM or SIGINT.
 *
 * <p>Exit codes: 0 after a clean shutdown, 1 when start-up fails (database unreachable, port
 * taken), 2 for a bad configuration.
 */
public final class Main {

  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();

    Config config;
    try {
      config = Config.from(System.getenv());
    } catch (ConfigException e) {
      System.err.println("users-service: invalid configuration: " + e.getMessage());
      System.exit(2);
      return;
    }

    Logger log = LoggerFactory.getLogger(Main.class);
    UsersServer server;
    try {
      server = UsersServer.start(config);
    } catch (StorageStartupException | UncheckedIOException e) {
      log.error("users-service cannot start: {}", e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("users-shutdown").unstarted(server::stop));
    server.awaitTermination();
  }
}
