package dev.users.adapter.persistence;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.MetricsTrackerFactory;
import dev.users.application.port.UserRepository;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.SqlStatements;
import org.jdbi.v3.core.statement.StatementExceptions;
import org.jdbi.v3.core.statement.StatementExceptions.MessageRendering;
import org.jdbi.v3.opentelemetry.JdbiOpenTelemetryPlugin;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Users stored in PostgreSQL: a connection pool on a schema that {@link #open} brings up to date.
 * Close it to release the connections.
 */
public final class PostgresStorage implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PostgresStorage.class);
  private static final String APPLICATION_NAME = "users-service";
  private static final String MIGRATIONS = "db/users/migration";

  private final HikariDataSource pool;
  private final UserRepository users;
  private final StorageMonitor monitor;

  private PostgresStorage(HikariDataSource pool, AbortableConnections physical, PostgresSettings settings,
      OpenTelemetry openTelemetry) {
    this.pool = pool;
    var answers = new AnswerClock();
    var jdbi = Jdbi.create(pool);
    if (openTelemetry != OpenTelemetry.noop()) {
      // A span per statement, child of the call's; with the no-op OpenTelemetry the plugin would
      // only build and discard an empty span around every statement. JDBI puts the bound values
      // (emails, names) in it by default; traces, like logs, keep no personal data.
      jdbi.installPlugin(new JdbiOpenTelemetryPlugin(openTelemetry));
    }
    this.users = new JdbiUserRepository(jdbi
        .configure(SqlStatements.class, statements -> statements.addCustomizer(new CallScopeStatementCustomizer())
            .addCustomizer(answers)
            .setIncludeBindingsInTelemetry(false))
        // Jdbi's default message names the statement's bound values (emails, names); an
        // unexpected failure is logged with its message, and logs keep no personal data.
        .configure(StatementExceptions.class, exceptions -> exceptions.setMessageRendering(MessageRendering.NONE)),
        settings.connectionTimeout());
    this.monitor = new StorageMonitor(monitorConnections(settings), settings.displayedUrl(),
        settings.connectionTimeout(), answers::lastAnswerNanos, () -> {
          // Idle connections are dead too; in-use ones are aborted so that their calls fail now
          // rather than at the socket timeout.
          pool.getHikariPoolMXBean().softEvictConnections();
          physical.abortAll();
        });
    monitor.start();
  }

  /**
   * Connects, creates the schema if needed and applies the migrations it lacks. Running it again
   * on an up-to-date schema changes nothing.
   *
   * @throws StorageStartupException when the database cannot be reached in about the connection
   *     timeout, or the schema cannot be migrated
   */
  public static PostgresStorage open(PostgresSettings settings) {
    return open(settings, OpenTelemetry.noop());
  }

  /**
   * As {@link #open(PostgresSettings)}, with a span per SQL statement traced by openTelemetry.
   *
   * <p>The migration's connection is the first, and tells an unreachable database from a failed
   * migration. The pool is made last: it starts filling itself at once, and its connections, each
   * a new server process to start, would otherwise compete with the migration for the machine.
   */
  public static PostgresStorage open(PostgresSettings settings, OpenTelemetry openTelemetry) {
    migrate(settings);
    var physical = new AbortableConnections(requestConnections(settings));
    var pool = new HikariDataSource(poolConfig(settings, physical));
    try {
      return new PostgresStorage(pool, physical, settings, openTelemetry);
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
  }

  public UserRepository users() {
    return users;
  }

  /** Reports the pool's connections and timeouts to {@code tracker}; at most once per storage. */
  public void trackPool(MetricsTrackerFactory tracker) {
    pool.setMetricsTrackerFactory(tracker);
  }

  /**
   * Whether the database answered its latest probe, made on a connection outside the pool at most
   * a quarter of a second plus a probe timeout ago; never blocks. A pool with every connection
   * busy is still available. False once closed.
   */
  public boolean isAvailable() {
    return monitor.isAvailable();
  }

  @Override
  public void close() {
    monitor.close();
    pool.close();
  }

  private static HikariConfig poolConfig(PostgresSettings settings, AbortableConnections physical) {
    var config = new HikariConfig();
    config.setPoolName(APPLICATION_NAME);
    config.setDataSource(physical);
    config.setMaximumPoolSize(settings.maxPoolSize());
    // HikariCP's default is 30 s. A call that cannot get a connection this fast fails as
    // unavailable, so that an exhausted pool or a dead database answers clients in about a
    // second instead of piling up waiting calls.
    config.setConnectionTimeout(settings.connectionTimeout().toMillis());
    // A borrowed connection that has been idle is checked first; the check must fit within the
    // caller's wait for a connection.
    config.setValidationTimeout(Math.max(250, settings.connectionTimeout().toMillis() / 2));
    // The pool starts without connecting; open() has connected for the migration first, so that a
    // dead database yields one clear line rather than HikariCP's logged stack trace.
    config.setInitializationFailTimeout(-1);
    return config;
  }

  /** For the pool, which serves requests. */
  private static PGSimpleDataSource requestConnections(PostgresSettings settings) {
    var connections = connections(settings);
    // The server cancels a statement that runs too long (SQLState 57014), which the repository
    // reports as unavailable storage instead of letting the call hang.
    connections.setOptions("-c statement_timeout=" + settings.statementTimeout().toMillis());
    // Only a backstop for a server that vanished without closing the socket: the monitor aborts
    // such connections within about 1.5 s. It stays longer than the statement timeout, so that a
    // slow statement ends with the server's clean cancellation (57014), never with a broken
    // connection.
    connections.setSocketTimeout(seconds(settings.statementTimeout().plusSeconds(5)));
    connections.setCurrentSchema(settings.schema());
    return connections;
  }

  /** For the monitor: a login into a silent server gives up as fast as a probe does. */
  private static PGSimpleDataSource monitorConnections(PostgresSettings settings) {
    var connections = connections(settings);
    connections.setSocketTimeout(seconds(settings.connectionTimeout()));
    // Told apart from the pool's connections in pg_stat_activity.
    connections.setApplicationName(APPLICATION_NAME + "-monitor");
    return connections;
  }

  private static PGSimpleDataSource connections(PostgresSettings settings) {
    var source = new PGSimpleDataSource();
    source.setURL(settings.jdbcUrl());
    source.setUser(settings.user());
    source.setPassword(settings.password());
    source.setApplicationName(APPLICATION_NAME);
    // The server's DETAIL of an error carries row values ("Key (email_canonical)=(...) already
    // exists", "Failing row contains (...)"); without it an exception's message, which may be
    // logged, names no personal data. The SQLState and constraint name stay available.
    source.setLogServerErrorDetail(false);
    // pgjdbc waits 10 s for a TCP connection by default; an unreachable host should be given up
    // about when callers stop waiting for a connection.
    source.setConnectTimeout(seconds(settings.connectionTimeout()));
    return source;
  }

  private static void migrate(PostgresSettings settings) {
    // Not the pool: its statement timeout is meant for requests, and a migration such as an index
    // build may rightly take longer. The first connection opens while this build's migrations are
    // read, or while Flyway sets itself up: start-up's longest chain.
    try (var connections = new ConnectionOpenedAhead(connections(settings))) {
      if (holdsThisBuildsMigrations(connections, settings)) {
        return;
      }
      Flyway.configure()
          .dataSource(connections)
          .schemas(settings.schema())
          .defaultSchema(settings.schema())
          .createSchemas(true)
          .locations("classpath:" + MIGRATIONS)
          .failOnMissingLocations(true)
          .load()
          .migrate();
    } catch (FlywayException e) {
      if (isConnectionFailure(e)) {
        throw cannotConnect(settings, e);
      }
      throw new StorageStartupException(
          "cannot migrate schema " + settings.schema() + " of PostgreSQL at " + settings.displayedUrl() + ": "
              + reason(e),
          e);
    }
  }

  /**
   * Whether the schema's history already records exactly this build's migrations, so that Flyway,
   * whose set-up costs most of opening storage, would have nothing to do (see {@link
   * SchemaHistory}); false whenever that is not certain, and Flyway then runs.
   */
  private static boolean holdsThisBuildsMigrations(ConnectionOpenedAhead connections, PostgresSettings settings) {
    try {
      var bundled = SchemaHistory.bundled(PostgresStorage.class.getClassLoader(), MIGRATIONS);
      if (bundled.isEmpty()) {
        return false;
      }
      try (var connection = connections.getConnection()) {
        if (!SchemaHistory.holdsExactly(connection, settings.schema(), bundled.get())) {
          return false;
        }
      }
      log.info("Schema {} holds this build's {} migrations; nothing to migrate", settings.schema(),
          bundled.get().size());
      return true;
    } catch (SQLException e) {
      if (isConnectionFailure(e)) {
        throw cannotConnect(settings, e);
      }
      // No history table yet, or one this cannot read: Flyway's to create, or to report.
      return false;
    } catch (IOException e) {
      // Flyway reads the same files, and reports what it cannot read.
      return false;
    }
  }

  private static StorageStartupException cannotConnect(PostgresSettings settings, Exception e) {
    return new StorageStartupException(
        "cannot connect to PostgreSQL at " + settings.displayedUrl() + " as user " + settings.user() + ": " + reason(e),
        e);
  }

  /**
   * Whether the migration failed for want of a connection: the server unreachable (SQLState class
   * 08), the login refused (class 28), or the database missing (3D000). The migration's connection
   * is the first start-up makes, so it is also the check that the database can be reached.
   */
  private static boolean isConnectionFailure(Throwable failure) {
    for (var cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof SQLException sql && sql.getSQLState() != null) {
        var state = sql.getSQLState();
        return state.startsWith("08") || state.startsWith("28") || state.equals("3D000");
      }
    }
    return false;
  }

  /** The innermost message, on one line: it says what actually went wrong. */
  static String reason(Throwable failure) {
    String message = null;
    for (var cause = failure; cause != null; cause = cause.getCause()) {
      if (cause.getMessage() != null && !cause.getMessage().isBlank()) {
        message = cause.getMessage();
      }
    }
    return message == null ? failure.getClass().getSimpleName() : message.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  private static int seconds(Duration duration) {
    return (int) Math.max(1, Math.ceilDiv(duration.toMillis(), 1_000));
  }
}
