package dev.users.bootstrap;

import dev.users.adapter.persistence.StorageStartupException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run the JDK's AOT cache is trained on ({@code bin/users-service --aot-training}, which the
 * build does after packaging the jar): the service starts as it does in production, in a schema of
 * its own that it migrates from scratch and drops at the end, answers every RPC over a real
 * plain-text socket, its usual errors included, and stops. The calls come from another JVM
 * ({@link AotTrainingClient}), so that the classes this one loads and links, which the JDK stores
 * in the cache for a start-up to find ready, are the service's alone.
 *
 * <p>Without a reachable PostgreSQL (a build with no database) it trains on in-memory storage,
 * which leaves Flyway, pgjdbc, HikariCP and JDBI out of the cache: the service still starts with
 * it, only less fast. A call that does not end as the API documents fails the training, and so the
 * build: a cache trained on a broken service is worth nothing.
 */
final class AotTraining {

  /** The argument of {@link Main} that runs this instead of the service. */
  static final String ARGUMENT = "--aot-training";

  private static final Logger log = LoggerFactory.getLogger(AotTraining.class);

  /** The client's JVM starts, makes some 450 calls and exits in a few seconds; this is for a stuck one. */
  private static final Duration CLIENT_TIMEOUT = Duration.ofMinutes(2);

  private AotTraining() {}

  /**
   * What the training ran on and how many calls it made.
   *
   * @param schema the PostgreSQL schema it made and dropped; empty on in-memory storage
   */
  record Outcome(Config.StorageKind storage, String schema, int calls) {}

  /**
   * Trains on the database of {@code env}'s {@code USERS_DB_URL}, {@code USERS_DB_USER} and
   * {@code USERS_DB_PASSWORD} (the service's defaults when unset); every other setting is the
   * service's default, on a free port.
   *
   * @throws IllegalStateException when a call does not end as the API documents
   */
  static Outcome run(Map<String, String> env) {
    var schema = "users_aot_training_" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    var settings = new HashMap<String, String>();
    for (var name : new String[] {"USERS_DB_URL", "USERS_DB_USER", "USERS_DB_PASSWORD"}) {
      if (env.containsKey(name)) {
        settings.put(name, env.get(name));
      }
    }
    settings.put("USERS_GRPC_PORT", "0");
    // Hundreds of access lines would bury the build's output; the access log still runs, below its level.
    if (LoggerFactory.getLogger("access") instanceof ch.qos.logback.classic.Logger access) {
      access.setLevel(ch.qos.logback.classic.Level.WARN);
    }
    settings.put("USERS_DB_SCHEMA", schema);
    var config = Config.from(settings);
    UsersServer server;
    try {
      server = UsersServer.start(config);
    } catch (StorageStartupException e) {
      log.warn("AOT training on in-memory storage, without PostgreSQL: {}", e.getMessage());
      settings.put("USERS_STORAGE", "memory");
      config = Config.from(settings);
      server = UsersServer.start(config);
    }
    try {
      int calls = callFromAnotherJvm(server.port());
      log.info("AOT training made {} calls on {} storage", calls, config.storage().name().toLowerCase(Locale.ROOT));
      return new Outcome(config.storage(), config.storage() == Config.StorageKind.POSTGRES ? schema : "", calls);
    } finally {
      server.stop();
      if (config.storage() == Config.StorageKind.POSTGRES) {
        dropSchema(config, schema);
      }
    }
  }

  /**
   * Runs {@link AotTrainingClient} against {@code port} on this JVM's java and class path, without
   * this JVM's options: only the service's classes are recorded, and the cache holds no gRPC
   * client (channel, name resolver, load balancer, client transport) that the service never uses.
   */
  private static int callFromAnotherJvm(int port) {
    var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // A short run: one GC thread and the quick compiler leave the cores to the service in training.
    // Netty loads its native transport, which JDK 22+ warns about unless it is allowed.
    var command = List.of(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"), AotTrainingClient.class.getName(), Integer.toString(port));
    try {
      // Into a file, not a pipe: reading a pipe would wait for as long as a stuck client keeps it open.
      var output = Files.createTempFile("users-aot-training-client", ".out");
      try {
        var client = new ProcessBuilder(command).redirectOutput(output.toFile())
            .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (!client.waitFor(CLIENT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
          client.destroyForcibly();
          throw new IllegalStateException("the AOT training's client did not finish within " + CLIENT_TIMEOUT);
        }
        if (client.exitValue() != 0) {
          throw new IllegalStateException("the AOT training's client exited with " + client.exitValue());
        }
        // The count is its last line; anything a library logged on standard output comes before it.
        var lines = Files.readAllLines(output);
        return Integer.parseInt(lines.getLast().strip());
      } finally {
        Files.deleteIfExists(output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run the AOT training's client", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the AOT training's client ran", e);
    }
  }

  private static void dropSchema(Config config, String schema) {
    var source = new PGSimpleDataSource();
    source.setURL(config.postgres().jdbcUrl());
    source.setUser(config.postgres().user());
    source.setPassword(config.postgres().password());
    try (var connection = source.getConnection(); var statement = connection.createStatement()) {
      statement.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    } catch (SQLException e) {
      log.warn("AOT training could not drop its schema {}: {}", schema, e.getMessage());
    }
  }
}
