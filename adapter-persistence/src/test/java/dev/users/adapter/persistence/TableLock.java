package dev.users.adapter.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import java.util.regex.Pattern;

/**
 * The users table of one schema locked from a connection of the test's own, as a long migration
 * or a stuck transaction would, until {@link #release()}: the service's statements on it wait in
 * the database, which is how fault tests make a statement slow without touching the server.
 */
public final class TableLock implements AutoCloseable {

  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
  private static final long PATIENCE_SECONDS = 10;

  private final Connection connection;
  /**
   * In autocommit, so that each query is a transaction of its own and sees pg_stat_activity afresh;
   * within the lock's transaction it would be a snapshot. Kept open, so that a poll costs a query,
   * not a connection, and measured times stay close to the truth.
   */
  private final Connection observer;
  private final PreparedStatement waiting;
  private boolean released;

  private TableLock(Connection connection, Connection observer) throws SQLException {
    this.connection = connection;
    this.observer = observer;
    this.waiting = observer.prepareStatement("""
        SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'users-service'
          AND state = 'active' AND wait_event_type = 'Lock'""");
  }

  /** Every statement on the table waits, reads included. */
  public static TableLock ofReadsAndWrites(PostgresTestDatabase database, String schema) throws SQLException {
    return take(database, schema, "ACCESS EXCLUSIVE");
  }

  /**
   * Writes wait, reads go on: EXCLUSIVE conflicts with the ROW EXCLUSIVE lock of INSERT, UPDATE and
   * DELETE, not with the ACCESS SHARE lock of SELECT.
   */
  public static TableLock ofWrites(PostgresTestDatabase database, String schema) throws SQLException {
    return take(database, schema, "EXCLUSIVE");
  }

  private static TableLock take(PostgresTestDatabase database, String schema, String mode) throws SQLException {
    if (!IDENTIFIER.matcher(schema).matches()) {
      throw new IllegalArgumentException("not a lower-case SQL identifier: " + schema);
    }
    var connection = database.connect();
    try {
      connection.setAutoCommit(false);
      try (var statement = connection.createStatement()) {
        statement.execute("LOCK TABLE \"" + schema + "\".users IN " + mode + " MODE");
      }
      return new TableLock(connection, database.connect());
    } catch (SQLException e) {
      connection.close();
      throw e;
    }
  }

  /** Statements of the service (application_name users-service) in this database waiting for a lock. */
  public int waitingStatements() throws SQLException {
    try (var rows = waiting.executeQuery()) {
      rows.next();
      return rows.getInt(1);
    }
  }

  /**
   * Waits, at most 10 s, until the number of {@link #waitingStatements()} satisfies {@code expected}.
   *
   * @return {@link System#nanoTime()} when it first did
   * @throws AssertionError naming {@code what} when it did not in time
   */
  public long awaitWaitingStatements(IntPredicate expected, String what) throws Exception {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(PATIENCE_SECONDS);
    int count;
    do {
      count = waitingStatements();
      if (expected.test(count)) {
        return System.nanoTime();
      }
      Thread.sleep(5);
    } while (System.nanoTime() < giveUp);
    throw new AssertionError(
        "waited " + PATIENCE_SECONDS + " s for " + what + "; statements waiting for the lock: " + count);
  }

  /** Releases the lock: the waiting statements go on. Safe to call twice. */
  public void release() throws SQLException {
    if (!released) {
      released = true;
      connection.rollback();
    }
  }

  @Override
  public void close() throws SQLException {
    try (observer; connection) {
      release();
    }
  }
}
