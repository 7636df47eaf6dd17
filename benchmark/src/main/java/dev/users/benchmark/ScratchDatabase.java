package dev.users.benchmark;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * A database of the benchmark's own, {@code users_bench_<random>}, created on the PostgreSQL server
 * at {@code BENCH_DB_URL} and dropped when the run ends, with its connections. The service keeps
 * its tables in a schema of it, pgbench its own in {@code public}.
 */
final class ScratchDatabase implements AutoCloseable {

  private static final Pattern URL = Pattern.compile("jdbc:postgresql://([^:/?]+)(?::([0-9]+))?/([^?]*)(\\?.*)?");

  private final String serverUrl;
  private final String host;
  private final int port;
  private final String user;
  private final String password;
  private final String name;
  private final Thread dropOnExit;

  private ScratchDatabase(String serverUrl, String user, String password) throws SQLException {
    var url = URL.matcher(serverUrl);
    if (!url.matches()) {
      throw new IllegalArgumentException("BENCH_DB_URL must look like jdbc:postgresql://host:port/database, got "
          + serverUrl);
    }
    this.serverUrl = serverUrl;
    this.host = url.group(1);
    this.port = url.group(2) == null ? 5432 : Integer.parseInt(url.group(2));
    this.user = user;
    this.password = password;
    this.name = "users_bench_" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    execute("CREATE DATABASE " + name);
    dropOnExit = Thread.ofPlatform().name("drop-" + name).unstarted(this::drop);
    Runtime.getRuntime().addShutdownHook(dropOnExit);
  }

  static ScratchDatabase create(String serverUrl, String user, String password) throws SQLException {
    return new ScratchDatabase(serverUrl, user, password);
  }

  String jdbcUrl() {
    return "jdbc:postgresql://" + host + ":" + port + "/" + name;
  }

  String host() {
    return host;
  }

  int port() {
    return port;
  }

  String user() {
    return user;
  }

  String password() {
    return password;
  }

  String name() {
    return name;
  }

  Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), user, password);
  }

  @Override
  public void close() {
    drop();
    Runtime.getRuntime().removeShutdownHook(dropOnExit);
  }

  private void drop() {
    try {
      execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot drop the scratch database " + name + ": " + e.getMessage(), e);
    }
  }

  private void execute(String sql) throws SQLException {
    try (var connection = DriverManager.getConnection(serverUrl, user, password);
        var statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }
}
