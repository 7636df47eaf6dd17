package dev.users.adapter.persistence;

import static dev.users.adapter.persistence.UserBuilder.aUser;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.users.application.port.StorageUnavailableException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

class PostgresStorageTest {

  private static final Duration QUICK = Duration.ofMillis(250);
  private static final Duration PATIENT = Duration.ofSeconds(30);

  private String schema;

  @AfterEach
  void dropSchema() {
    if (schema != null) {
      PostgresTestDatabase.get().dropSchema(schema);
    }
  }

  @Test
  void failsFastWithOneLineSayingWhereItTriedWhenTheDatabaseIsUnreachable() {
    var settings = new PostgresSettings(
        "jdbc:postgresql://127.0.0.1:1/users?password=secret", "postgres", "hunter2", "users", 10,
        Duration.ofSeconds(1), Duration.ofSeconds(5));

    // Well below HikariCP's default wait of 30 s, which start-up must not inherit.
    var failure = assertTimeoutPreemptively(Duration.ofSeconds(10),
        () -> catchStartupFailure(() -> PostgresStorage.open(settings)));

    assertThat(failure.getMessage())
        .startsWith("cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:1/users as user postgres: ")
        .contains("Connection refused")
        .doesNotContain("\n", "hunter2", "secret", "Exception");
  }

  @Test
  void reportsAFailedMigrationInOneLine() throws SQLException {
    var database = PostgresTestDatabase.get();
    schema = database.newSchemaName();
    execute("CREATE SCHEMA " + schema + "; CREATE TABLE " + schema + ".stray (id int)");

    var failure = catchStartupFailure(() -> PostgresStorage.open(settings(2, PATIENT, PATIENT)));

    assertThat(failure.getMessage())
        .startsWith("cannot migrate schema " + schema + " of PostgreSQL at " + database.jdbcUrl() + ": ")
        .doesNotContain("\n");
  }

  @Test
  void migratesASchemaThatIsUpToDateWithoutChangingIt() {
    schema = PostgresTestDatabase.get().newSchemaName();
    var user = aUser().build();
    try (var first = PostgresStorage.open(settings(2, PATIENT, PATIENT))) {
      first.users().add(user);
    }

    try (var second = PostgresStorage.open(settings(2, PATIENT, PATIENT))) {
      assertThat(second.users().findById(user.id())).contains(user);
    }
  }

  @Test
  void reportsStorageUnavailableWhenEveryConnectionStaysBusy() throws Exception {
    schema = PostgresTestDatabase.get().newSchemaName();
    try (var storage = PostgresStorage.open(settings(1, QUICK, PATIENT));
        var locker = lockUsersTable()) {
      var blocked = CompletableFuture.supplyAsync(() -> storage.users().findById(aUser().build().id()));
      awaitAStatementWaitingForTheLock(locker);

      assertThatThrownBy(() -> storage.users().listFirst(10)).isInstanceOf(StorageUnavailableException.class);

      locker.rollback();
      assertThat(blocked.get(10, TimeUnit.SECONDS)).isEmpty();
    }
  }

  @Test
  void reportsStorageUnavailableWhenAStatementOutlastsTheStatementTimeout() throws Exception {
    schema = PostgresTestDatabase.get().newSchemaName();
    try (var storage = PostgresStorage.open(settings(2, PATIENT, Duration.ofMillis(200)));
        var locker = lockUsersTable()) {
      assertThatThrownBy(() -> storage.users().add(aUser().build()))
          .isInstanceOf(StorageUnavailableException.class)
          .hasMessageNotContaining("users")
          .rootCause()
          .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"));
      locker.rollback();
    }
  }

  @Test
  void isAvailableWhileOpenAndNotOnceClosed() {
    schema = PostgresTestDatabase.get().newSchemaName();
    var storage = PostgresStorage.open(settings(1, QUICK, PATIENT));

    assertThat(storage.isAvailable()).isTrue();
    storage.close();
    assertThat(storage.isAvailable()).isFalse();
  }

  private PostgresSettings settings(int maxPoolSize, Duration connectionTimeout, Duration statementTimeout) {
    return PostgresTestDatabase.get().settings(schema, maxPoolSize, connectionTimeout, statementTimeout);
  }

  private static StorageStartupException catchStartupFailure(Runnable start) {
    try {
      start.run();
    } catch (StorageStartupException e) {
      return e;
    }
    throw new AssertionError("start-up succeeded");
  }

  /** A connection whose open transaction holds the users table until it rolls back. */
  private Connection lockUsersTable() throws SQLException {
    var connection = PostgresTestDatabase.get().connect();
    connection.setAutoCommit(false);
    try (var statement = connection.createStatement()) {
      statement.execute("LOCK TABLE " + schema + ".users IN ACCESS EXCLUSIVE MODE");
    }
    return connection;
  }

  private static void awaitAStatementWaitingForTheLock(Connection observer) throws Exception {
    var deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (var statement = observer.createStatement();
          var waiting = statement.executeQuery("""
              SELECT count(*) FROM pg_stat_activity
              WHERE application_name = 'users-service' AND wait_event_type = 'Lock'""")) {
        waiting.next();
        if (waiting.getInt(1) > 0) {
          return;
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no statement of the pool started waiting for the lock");
  }

  private static void execute(String sql) throws SQLException {
    try (var connection = PostgresTestDatabase.get().connect(); var statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }
}
