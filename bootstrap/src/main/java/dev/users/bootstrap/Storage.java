package dev.users.bootstrap;

import dev.users.adapter.persistence.PostgresStorage;
import dev.users.adapter.persistence.memory.InMemoryUserRepository;
import dev.users.application.port.UserRepository;
import io.opentelemetry.api.OpenTelemetry;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/** The user repository chosen by configuration, with what the server needs to run it. */
record Storage(UserRepository users, BooleanSupplier isAvailable, AutoCloseable resources, String description) {

  /** The PostgreSQL storage behind {@link #users}, whose pool can be reported on; none in memory. */
  Optional<PostgresStorage> postgres() {
    return resources instanceof PostgresStorage postgres ? Optional.of(postgres) : Optional.empty();
  }

  /**
   * Opens the configured storage; for PostgreSQL this connects and migrates the schema, and fails
   * with a {@link dev.users.adapter.persistence.StorageStartupException} if it cannot.
   */
  static Storage open(Config config) {
    return open(config, OpenTelemetry.noop());
  }

  /**
   * {@link #open(Config, OpenTelemetry)} on a thread of its own: connecting and migrating are the
   * longest part of start-up and need nothing else that starts, so they begin first.
   */
  static CompletableFuture<Storage> openInBackground(Config config, OpenTelemetry openTelemetry) {
    var opened = new CompletableFuture<Storage>();
    Thread.ofPlatform().name("users-storage-open").start(() -> {
      try {
        opened.complete(open(config, openTelemetry));
      } catch (Throwable e) {
        opened.completeExceptionally(e);
      }
    });
    return opened;
  }

  /** As {@link #open(Config)}, with a span per SQL statement traced by openTelemetry. */
  static Storage open(Config config, OpenTelemetry openTelemetry) {
    return switch (config.storage()) {
      case MEMORY -> new Storage(new InMemoryUserRepository(), () -> true, () -> {}, "memory");
      case POSTGRES -> {
        var postgres = PostgresStorage.open(config.postgres(), openTelemetry);
        yield new Storage(postgres.users(), postgres::isAvailable, postgres,
            "postgres " + config.postgres().jdbcUrl() + " schema " + config.postgres().schema());
      }
    };
  }
}
