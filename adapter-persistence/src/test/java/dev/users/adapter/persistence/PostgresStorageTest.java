package dev.users.adapter.persistence;

import static dev.users.adapter.persistence.UserBuilder.aUser;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.users.adapter.persistence.Concurrently.Outcome;
import dev.users.application.port.StorageUnavailableException;
import dev.users.domain.User;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.slf4j.LoggerFactory;

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
  void aMissingDatabaseIsAFailureToConnectNotToMigrate() {
    var database = PostgresTestDatabase.get();
    var url = database.jdbcUrl().replaceFirst("/[^/?]+$", "/no_such_database_here");
    var settings = new PostgresSettings(url, database.user(), database.password(), "users", 2,
        Duration.ofSeconds(1), Duration.ofSeconds(5));

    var failure = catchStartupFailure(() -> PostgresStorage.open(settings));

    assertThat(failure.getMessage())
        .startsWith("cannot connect to PostgreSQL at " + url + " as user " + database.user() + ": ")
        .contains("no_such_database_here")
        .doesNotContain("\n");
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
  void opensASchemaThatHoldsThisBuildsMigrationsWithoutFlyway() {
    schema = PostgresTestDatabase.get().newSchemaName();
    var user = aUser().build();
    try (var first = PostgresStorage.open(settings(2, PATIENT, PATIENT))) {
      first.users().add(user);
    }
    var flyway = (Logger) LoggerFactory.getLogger("org.flywaydb");
    var level = flyway.getLevel();
    var flywayLines = new ListAppender<ILoggingEvent>();
    flywayLines.start();
    flyway.addAppender(flywayLines);
    // Flyway logs at INFO whenever it runs, "up to date" included.
    flyway.setLevel(Level.INFO);

    try (var second = PostgresStorage.open(settings(2, PATIENT, PATIENT))) {
      assertThat(second.users().findById(user.id())).contains(user);
    } finally {
      flyway.detachAppender(flywayLines);
      flyway.setLevel(level);
    }
    assertThat(flywayLines.list).as("Flyway's lines").isEmpty();
  }

  @Test
  void aScriptChangedSinceItWasAppliedStillStopsStartUp() throws SQLException {
    var database = PostgresTestDatabase.get();
    schema = database.newSchemaName();
    PostgresStorage.open(settings(2, PATIENT, PATIENT)).close();
    execute("UPDATE " + schema + ".flyway_schema_history SET checksum = checksum + 1 WHERE version = '1'");

    var failure = catchStartupFailure(() -> PostgresStorage.open(settings(2, PATIENT, PATIENT)));

    assertThat(failure.getMessage())
        .startsWith("cannot migrate schema " + schema + " of PostgreSQL at " + database.jdbcUrl() + ": ")
        .contains("checksum mismatch");
  }

  @Test
  void reportsStorageUnavailableWhenEveryConnectionStaysBusy() throws Exception {
    schema = PostgresTestDatabase.get().newSchemaName();
    try (var storage = PostgresStorage.open(settings(1, QUICK, PATIENT));
        var locker = TableLock.ofReadsAndWrites(PostgresTestDatabase.get(), schema)) {
      var blocked = CompletableFuture.supplyAsync(() -> storage.users().findById(aUser().build().id()));
      locker.awaitWaitingStatements(n -> n > 0, "a statement of the pool to wait for the lock");

      assertThatThrownBy(() -> storage.users().listFirst(10)).isInstanceOf(StorageUnavailableException.class);
      assertThat(storage.isAvailable()).as("a busy pool is load, not an outage").isTrue();

      locker.release();
      assertThat(blocked.get(10, TimeUnit.SECONDS)).isEmpty();
    }
  }

  @Test
  void reportsStorageUnavailableWhenAStatementOutlastsTheStatementTimeout() throws Exception {
    schema = PostgresTestDatabase.get().newSchemaName();
    try (var storage = PostgresStorage.open(settings(2, PATIENT, Duration.ofMillis(200)));
        var locker = TableLock.ofReadsAndWrites(PostgresTestDatabase.get(), schema)) {
      assertThatThrownBy(() -> storage.users().add(aUser().build()))
          .isInstanceOf(StorageUnavailableException.class)
          .hasMessageNotContaining("users")
          .rootCause()
          .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"));
      locker.release();
    }
  }

  @Test
  void reportsStorageUnavailableToEachOfConcurrentAddsWhoseSharedInsertOutlastsTheStatementTimeout() throws Exception {
    schema = PostgresTestDatabase.get().newSchemaName();
    try (var storage = PostgresStorage.open(settings(2, PATIENT, Duration.ofMillis(200)));
        var locker = TableLock.ofWrites(PostgresTestDatabase.get(), schema)) {
      var added = IntStream.range(0, 16).mapToObj(i -> aUser().build()).toList();

      var outcomes = Concurrently.run(added.stream()
          .map(user -> (Callable<Outcome<User>>) () -> Outcome.of(() -> storage.users().add(user)))
          .toList());

      Concurrently.countAndPrint(outcomes);
      assertThat(outcomes).extracting(Outcome::failure).allSatisfy(failure -> assertThat(failure)
          .isInstanceOf(StorageUnavailableException.class)
          .rootCause()
          .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014")));
      locker.release();
      assertThat(storage.users().listFirst(100)).isEmpty();
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

  @Test
  void logsAnOutageOnceWhenItStartsAndOnceWhenItEndsHoweverManyCallsFail() throws Exception {
    var database = PostgresTestDatabase.get();
    schema = database.newSchemaName();
    var monitorLog = (Logger) LoggerFactory.getLogger(StorageMonitor.class);
    var events = new ListAppender<ILoggingEvent>();
    events.start();
    monitorLog.addAppender(events);
    monitorLog.setLevel(Level.INFO);
    try (var proxy = TcpProxy.inFrontOf(database);
        var storage = PostgresStorage.open(new PostgresSettings(
            proxy.jdbcUrl(), database.user(), database.password(), schema, 2, QUICK, PATIENT))) {
      proxy.cut();
      await(() -> !storage.isAvailable());
      for (int i = 0; i < 5; i++) {
        assertThatThrownBy(() -> storage.users().findById(aUser().build().id()))
            .isInstanceOf(StorageUnavailableException.class);
      }
      proxy.restore();
      await(storage::isAvailable);

      assertThat(events.list).extracting(ILoggingEvent::getLevel).containsExactly(Level.WARN, Level.INFO);
      assertThat(events.list.get(0).getFormattedMessage())
          // Refused, or reset when the cut caught a connection being opened: either way class 08.
          .startsWith("storage unavailable: PostgreSQL at " + proxy.jdbcUrl() + " does not answer (SQLState 08")
          .endsWith("; calls fail UNAVAILABLE until it does");
      assertThat(events.list.get(1).getFormattedMessage())
          .matches("storage available again: PostgreSQL at \\S+ answers; the outage lasted \\d+ ms");
    } finally {
      monitorLog.detachAppender(events);
      monitorLog.setLevel(null);
    }
  }

  @Test
  void aSlowLinkIsNotAnOutage() throws Exception {
    var database = PostgresTestDatabase.get();
    schema = database.newSchemaName();
    try (var proxy = TcpProxy.inFrontOf(database);
        var storage = PostgresStorage.open(new PostgresSettings(
            proxy.jdbcUrl(), database.user(), database.password(), schema, 2, PATIENT, PATIENT))) {
      proxy.delay(Duration.ofMillis(200));
      long started = System.nanoTime();
      var user = aUser().build();
      storage.users().add(user);
      System.out.printf("slow link: one insert took %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));

      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      while (System.nanoTime() < until) {
        assertThat(storage.isAvailable()).isTrue();
        Thread.sleep(50);
      }
      assertThat(storage.users().findById(user.id())).contains(user);
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 10 s");
      }
      Thread.sleep(20);
    }
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

  private static void execute(String sql) throws SQLException {
    try (var connection = PostgresTestDatabase.get().connect(); var statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }
}
