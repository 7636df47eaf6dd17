package dev.users.bootstrap;

import dev.users.adapter.persistence.PostgresTestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.regex.Pattern;

/**
 * The users table of one schema locked against writes from a connection of the test's own, as a
 * long migration or a stuck transaction would: reads go on, every write waits in the database
 * until {@link #close()}.
 */
final class TableLock implements AutoCloseable {

  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private final PostgresTestDatabase database;
  private final Connection connection;

  private TableLock(PostgresTestDatabase database, Connection connection) {
    this.database = database;
    this.connection = connection;
  }

  static TableLock onUsers(PostgresTestDatabase database, String schema) throws SQLException {
    if (!IDENTIFIER.matcher(schema).matches()) {
      throw new IllegalArgumentException("not a lower-case SQL identifier: " + schema);
    }
    var connection = connect(database);
    try {
      connection.setAutoCommit(false);
      try (var statement = connection.createStatement()) {
        // EXCLUSIVE conflicts with the ROW EXCLUSIVE lock of INSERT, UPDATE and DELETE, not with
        // the ACCESS SHARE lock of SELECT.
        statement.execute("LOCK TABLE \"" + schema + "\".users IN EXCLUSIVE MODE");
      }
      return new TableLock(database, connection);
    } catch (SQLException e) {
      connection.close();
      throw e;
    }
  }

  /** Statements of this database waiting for a lock, this one's or any other. */
  int waitingStatements() throws SQLException {
    // A connection of its own: within the lock's transaction, pg_stat_activity is a snapshot.
    try (var observer = connect(database);
        var statement = observer.createStatement();
        var rows = statement.executeQuery("""
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'
            """)) {
      rows.next();
      return rows.getInt(1);
    }
  }

  private static Connection connect(PostgresTestDatabase database) throws SQLException {
    return DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
  }

  /** Releases the lock: the waiting writes go on. */
  @Override
  public void close() throws SQLException {
    try {
      connection.rollback();
    } finally {
      connection.close();
    }
  }
}
