package dev.users.adapter.persistence;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The PostgreSQL database the tests of this JVM share: a Testcontainers PostgreSQL 15 when a
 * Docker engine is available, otherwise a database {@code users_test_<random>} created on the
 * server at {@code USERS_TEST_DB_URL} (default {@code jdbc:postgresql://127.0.0.1:5432/postgres},
 * user {@code USERS_TEST_DB_USER}, default {@code postgres}, password {@code
 * USERS_TEST_DB_PASSWORD}, default empty) and dropped when the JVM exits.
 *
 * <p>Tests isolate themselves in schemas of their own ({@link #newSchemaName()}). When no database
 * can be reached, {@link #get()} aborts the calling test with the reason, or fails it under
 * {@code CI=true}, where a skipped database test would hide a broken build.
 */
public final class PostgresTestDatabase {

  private static final Logger log = LoggerFactory.getLogger(PostgresTestDatabase.class);
  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
  private static final Pattern URL = Pattern.compile("(jdbc:postgresql://[^/?]*/)([^?]*)(\\?.*)?");

  private static PostgresTestDatabase instance;
  private static String unreachable;

  private final String jdbcUrl;
  private final String user;
  private final String password;

  private PostgresTestDatabase(String jdbcUrl, String user, String password) {
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
  }

  /**
   * The database, started or created on first use.
   *
   * @throws IllegalStateException under {@code CI=true} when no database can be reached
   * @throws org.opentest4j.TestAbortedException elsewhere when no database can be reached
   */
  public static synchronized PostgresTestDatabase get() {
    if (instance == null && unreachable == null) {
      if (DockerClientFactory.instance().isDockerAvailable()) {
        instance = inContainer();
      } else {
        try {
          instance = onLocalServer();
        } catch (SQLException e) {
          unreachable = "no PostgreSQL for the database tests: Docker is not available and "
              + localUrl() + " cannot be reached as user " + localUser() + " (" + e.getMessage()
              + "); set USERS_TEST_DB_URL, USERS_TEST_DB_USER and USERS_TEST_DB_PASSWORD";
          // Once in the build output: a report's skipped count alone does not say why.
          log.warn(unreachable);
        }
      }
    }
    if (instance != null) {
      return instance;
    }
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      throw new IllegalStateException(unreachable);
    }
    return Assumptions.abort(unreachable);
  }

  public String jdbcUrl() {
    return jdbcUrl;
  }

  public String user() {
    return user;
  }

  public String password() {
    return password;
  }

  /** A schema name no test used yet; the schema itself is created by whoever migrates it. */
  public String newSchemaName() {
    return "t_" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
  }

  public void dropSchema(String schema) {
    execute(dataSource(), "DROP SCHEMA IF EXISTS " + identifier(schema) + " CASCADE");
  }

  /** Settings for a {@link PostgresStorage} on {@code schema} of this database. */
  PostgresSettings settings(String schema, int maxPoolSize, Duration connectionTimeout, Duration statementTimeout) {
    return new PostgresSettings(jdbcUrl, user, password, schema, maxPoolSize, connectionTimeout, statementTimeout);
  }

  Connection connect() throws SQLException {
    return dataSource().getConnection();
  }

  private static PostgresTestDatabase inContainer() {
    var container = new PostgreSQLContainer("postgres:15-alpine");
    // Testcontainers' reaper removes the container when the JVM exits.
    container.start();
    return new PostgresTestDatabase(container.getJdbcUrl(), container.getUsername(), container.getPassword());
  }

  private static PostgresTestDatabase onLocalServer() throws SQLException {
    var url = URL.matcher(localUrl());
    if (!url.matches()) {
      throw new IllegalStateException(
          "USERS_TEST_DB_URL must look like jdbc:postgresql://host:port/database, got " + localUrl());
    }
    var server = dataSource(localUrl(), localUser(), localPassword());
    var database = "users_test_" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    try (var connection = server.getConnection(); var statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + database);
    }
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("drop-" + database).unstarted(
        () -> execute(server, "DROP DATABASE IF EXISTS " + database + " WITH (FORCE)")));
    var jdbcUrl = url.group(1) + database + Objects.requireNonNullElse(url.group(3), "");
    return new PostgresTestDatabase(jdbcUrl, localUser(), localPassword());
  }

  private PGSimpleDataSource dataSource() {
    return dataSource(jdbcUrl, user, password);
  }

  private static PGSimpleDataSource dataSource(String url, String user, String password) {
    var source = new PGSimpleDataSource();
    source.setURL(url);
    source.setUser(user);
    source.setPassword(password);
    source.setConnectTimeout(3);
    return source;
  }

  private static void execute(PGSimpleDataSource source, String sql) {
    try (var connection = source.getConnection(); var statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot run " + sql + ": " + e.getMessage(), e);
    }
  }

  private static String identifier(String name) {
    if (!IDENTIFIER.matcher(name).matches()) {
      throw new IllegalArgumentException("not a lower-case SQL identifier: " + name);
    }
    return '"' + name + '"';
  }

  private static String localUrl() {
    return env("USERS_TEST_DB_URL", "jdbc:postgresql://127.0.0.1:5432/postgres");
  }

  private static String localUser() {
    return env("USERS_TEST_DB_USER", "postgres");
  }

  private static String localPassword() {
    return env("USERS_TEST_DB_PASSWORD", "");
  }

  private static String env(String name, String fallback) {
    var value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }
}
