package dev.users.adapter.persistence;

import static dev.users.adapter.persistence.UserBuilder.aUser;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.application.port.CallCancelledException;
import dev.users.application.port.CallScope;
import dev.users.domain.User;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Statements of PostgreSQL storage end with the call they serve. */
class CallScopeStatementCustomizerTest {

  /** Far beyond the tests: only the call's end may stop a statement. */
  private static final Duration STATEMENT_TIMEOUT = Duration.ofMinutes(1);

  private String schema;
  private PostgresStorage storage;

  @BeforeEach
  void open() {
    var database = PostgresTestDatabase.get();
    schema = database.newSchemaName();
    storage = PostgresStorage.open(database.settings(schema, 2, Duration.ofSeconds(5), STATEMENT_TIMEOUT));
  }

  @AfterEach
  void close() {
    storage.close();
    PostgresTestDatabase.get().dropSchema(schema);
  }

  @Test
  void aStatementOfACallThatIsAlreadyOverIsNotSent() {
    var user = aUser().build();
    var call = CallScope.withoutDeadline();
    call.expire();

    assertThatThrownBy(() -> call.run(() -> storage.users().add(user)))
        .isInstanceOfSatisfying(CallCancelledException.class, e -> assertThat(e.deadlinePassed()).isTrue());

    assertThat(storage.users().findById(user.id())).isEmpty();
  }

  @Test
  void aListingOfACallThatIsAlreadyOverIsNotRead() {
    storage.users().add(aUser().build());
    var call = CallScope.withoutDeadline();
    call.cancel();
    var passed = new ArrayList<User>();

    assertThatThrownBy(() -> call.run(() -> storage.users().forEach(Optional.empty(), 10, passed::add)))
        .isInstanceOfSatisfying(CallCancelledException.class, e -> assertThat(e.deadlinePassed()).isFalse());

    assertThat(passed).isEmpty();
  }

  @Test
  void cancellingTheCallCancelsItsRunningStatementAndFreesTheConnection() throws Exception {
    var call = CallScope.withoutDeadline();
    try (var locker = TableLock.ofReadsAndWrites(PostgresTestDatabase.get(), schema)) {
      var lookup = CompletableFuture.runAsync(() -> call.run(() -> storage.users().findById(aUser().build().id())));
      locker.awaitWaitingStatements(n -> n == 1, "the lookup to wait for the lock");

      long cancelled = System.nanoTime();
      call.cancel();
      var failure = catchFailure(lookup);
      long ended = System.nanoTime();
      locker.awaitWaitingStatements(n -> n == 0, "the cancelled statement to leave pg_stat_activity");
      long gone = System.nanoTime();

      System.out.printf("cancelled call: its statement failed after %d ms, gone from pg_stat_activity after %d ms%n",
          TimeUnit.NANOSECONDS.toMillis(ended - cancelled), TimeUnit.NANOSECONDS.toMillis(gone - cancelled));
      assertThat(failure).isInstanceOfSatisfying(CallCancelledException.class,
          e -> assertThat(e.deadlinePassed()).isFalse());
      // Generous for a busy machine; without the cancel, the statement would wait a minute.
      assertThat(Duration.ofNanos(gone - cancelled)).isLessThan(Duration.ofSeconds(2));
      locker.release();
    }
  }

  @Test
  void anAsynchronousLookupOfACallThatIsAlreadyOverFailsWithItsCancellation() throws Exception {
    var user = storage.users().add(aUser().build());
    var call = CallScope.withoutDeadline();
    call.expire();

    var lookup = call.call(() -> storage.users().findByIdAsync(user.id())).toCompletableFuture();

    assertThat(catchFailure(lookup)).isInstanceOfSatisfying(CallCancelledException.class,
        e -> assertThat(e.deadlinePassed()).isTrue());
  }

  @Test
  void cancellingTheCallOfAnAsynchronousLookupCancelsItsStatementAndFailsItWithTheCancellation() throws Exception {
    var call = CallScope.withoutDeadline();
    try (var locker = TableLock.ofReadsAndWrites(PostgresTestDatabase.get(), schema)) {
      var lookup = CompletableFuture.supplyAsync(() -> call.call(() -> storage.users().findByIdAsync(aUser().build().id())))
          .thenCompose(pending -> pending);
      locker.awaitWaitingStatements(n -> n == 1, "the lookup to wait for the lock");

      call.cancel();

      assertThat(catchFailure(lookup)).isInstanceOfSatisfying(CallCancelledException.class,
          e -> assertThat(e.deadlinePassed()).isFalse());
      locker.awaitWaitingStatements(n -> n == 0, "the cancelled statement to leave pg_stat_activity");
      locker.release();
    }
  }

  @Test
  void statementsOfACallThatIsNotOverRunAsUsual() {
    var user = aUser().build();
    var call = CallScope.withDeadline(Duration.ofMinutes(1));

    call.run(() -> storage.users().add(user));

    assertThat(call.call(() -> storage.users().findById(user.id()))).contains(user);
  }

  private static Throwable catchFailure(CompletableFuture<?> work) throws Exception {
    try {
      work.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause() instanceof CompletionException wrapped ? wrapped.getCause() : e.getCause();
    }
    throw new AssertionError("the statement succeeded");
  }
}
