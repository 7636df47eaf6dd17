package dev.users.adapter.persistence;

import dev.users.application.port.CallScope;
import dev.users.application.port.IdempotencyKey;
import dev.users.application.port.StorageUnavailableException;
import dev.users.application.port.UserRepository;
import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.User;
import dev.users.domain.UserId;
import dev.users.domain.UserNotFoundException;
import io.opentelemetry.context.Context;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jdbi.v3.core.statement.SqlStatement;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;
import org.postgresql.util.PSQLException;

/**
 * {@link UserRepository} on the {@code users} table. Every method runs its statements on one
 * handle, in autocommit: the writes are single statements. Lookups by id, and adds without an
 * idempotency key, that arrive together share one statement ({@link Coalescer}); their async forms
 * hold no thread while they wait for it.
 *
 * <p>An update or delete is optimistic: it reads the user, runs the caller's function with no
 * transaction or row lock held, and writes only if the version is still the one it read. When
 * another write came first, it reads the user again and runs the function again, up to {@value
 * #ATTEMPTS} times in all. A caller still losing then is among many writers of one user: its last
 * attempt reads the row {@code FOR UPDATE} in a transaction and runs the function under that row
 * lock, so it cannot lose again, and the caller never sees a conflict it did not cause. The lock is
 * held while one change function runs, and it queues only the writers of that user.
 */
final class JdbiUserRepository implements UserRepository {

  private static final String COLUMNS = "id, email, display_name, create_time, update_time, version";

  private static final String INSERT = """
      INSERT INTO users (id, email, email_canonical, display_name, create_time, update_time, version)
      VALUES (:id, :email, :email_canonical, :display_name, :create_time, :update_time, 1)
      RETURNING\s""" + COLUMNS;

  // Many new users in one statement and one commit. A row whose email or id is taken, by a stored
  // user or by another row of the statement, is skipped rather than failing the others. Times
  // travel as ISO-8601 text in UTC and are cast back, to the microsecond whatever the session's
  // time zone.
  private static final String INSERT_ALL = """
      INSERT INTO users (id, email, email_canonical, display_name, create_time, update_time, version)
      SELECT id, email, email_canonical, display_name, create_time, update_time, 1
      FROM unnest(:ids, :emails, :emails_canonical, :display_names, :create_times::timestamptz[],
                  :update_times::timestamptz[])
          AS batch (id, email, email_canonical, display_name, create_time, update_time)
      ON CONFLICT DO NOTHING
      RETURNING\s""" + COLUMNS;

  private static final String INSERT_UNLESS_KEY_USED = """
      INSERT INTO users (id, email, email_canonical, display_name, create_time, update_time, version,
                         idempotency_key)
      VALUES (:id, :email, :email_canonical, :display_name, :create_time, :update_time, 1, :idempotency_key)
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING\s""" + COLUMNS;

  private static final String SELECT_BY_IDEMPOTENCY_KEY =
      "SELECT " + COLUMNS + " FROM users WHERE idempotency_key = :idempotency_key";

  private static final String SELECT_BY_ID = "SELECT " + COLUMNS + " FROM users WHERE id = :id";

  private static final String SELECT_BY_IDS = "SELECT " + COLUMNS + " FROM users WHERE id = ANY(:ids)";

  private static final String SELECT_BY_ID_FOR_UPDATE = SELECT_BY_ID + " FOR UPDATE";

  private static final String UPDATE = """
      UPDATE users
      SET email = :email, email_canonical = :email_canonical, display_name = :display_name,
          update_time = :update_time, version = version + 1
      WHERE id = :id AND version = :version
      RETURNING\s""" + COLUMNS;

  private static final String DELETE = "DELETE FROM users WHERE id = :id AND version = :version";

  // Stored values are not judged by today's rules: a user stored under older ones stays readable.
  // Columns are read by their position in COLUMNS, which every query mapped here selects or
  // returns: looking them up by name cost a third of a listing's time.
  private static final RowMapper<User> USER = (row, context) -> User.reconstitute(
      new UserId(row.getObject(1, UUID.class)),
      Email.fromStorage(row.getString(2)),
      DisplayName.fromStorage(row.getString(3)),
      row.getObject(4, OffsetDateTime.class).toInstant(),
      row.getObject(5, OffsetDateTime.class).toInstant(),
      row.getLong(6));

  private static final String EMAIL_KEY = "users_email_canonical_key";

  // Attempts at a read-modify-write, the last of them under the row lock. Two writers of one user
  // rarely collide twice in a row; more optimistic attempts would only spin while a crowd of
  // writers of the same user keeps winning.
  private static final int ATTEMPTS = 3;

  // Connection lost or refused (class 08), server shutting down or starting (57P01-57P03), too
  // many connections (53300), statement timeout (57014): the database cannot serve right now.
  private static final Set<String> UNAVAILABLE_STATES = Set.of("57P01", "57P02", "57P03", "53300", "57014");

  // Lookups by id, or inserts of new users, that arrive together share a statement of up to this
  // many: it bounds one statement's arrays and the time a batch takes, not the waiting calls,
  // which the server's limit on calls in flight bounds.
  private static final int MAX_BATCH = 64;

  // Batches of lookups, and of inserts, that run at once, each on a connection: one. The calls that
  // arrive while a batch runs queue and go together as the next, which starts the moment it ends;
  // a call that finds none running goes at once. With two in flight, the second mostly ran a lone
  // call that came just after a batch had taken the queue, a whole round trip for one lookup:
  // under 64 calls in flight, 4 us more server CPU per GetUser, 8 more per CreateUser, more
  // PostgreSQL CPU and a longer p99 (BENCHMARKS.md).
  private static final int BATCHES_IN_FLIGHT = 1;

  private final Jdbi jdbi;
  private final Coalescer<UserId, User> lookups;
  private final Coalescer<User, User> inserts;
  // The writes that addAsync cannot hand to a batch, because they take more than one statement or
  // follow one: a thread each, made for it. The server's limit on calls in flight bounds them.
  private final Executor writesAlone = Executors.newThreadPerTaskExecutor(
      Thread.ofVirtual().name("storage-write-", 0).factory());

  /**
   * @param connectionTimeout the pool's: a lookup or insert queued behind the batches in flight
   *     waits no longer for its turn than a statement waits for a connection
   */
  JdbiUserRepository(Jdbi jdbi, Duration connectionTimeout) {
    this.jdbi = jdbi;
    Supplier<RuntimeException> queuedTooLong =
        () -> new StorageUnavailableException("storage is unavailable, try again later", null);
    // A batch's failure reaches each caller translated in that caller's scope, where the
    // cancellation seen is the caller's own.
    BiFunction<RuntimeException, CallScope, RuntimeException> failureFor =
        (failure, scope) -> failure instanceof JdbiException e ? unavailableOrAsIs(e, scope) : failure;
    this.lookups = new Coalescer<>(
        this::findAll, MAX_BATCH, BATCHES_IN_FLIGHT, connectionTimeout, queuedTooLong, failureFor);
    this.inserts = new Coalescer<>(
        this::insertAll, MAX_BATCH, BATCHES_IN_FLIGHT, connectionTimeout, queuedTooLong, failureFor);
  }

  @Override
  public User add(User user) {
    // A user its batch did not store had its email or id taken, by a stored user or by another of
    // the batch: inserted alone, it gets the outcome it would have had without company.
    return inserts.apply(user).orElseGet(() -> inDatabase(handle -> insert(handle, user)));
  }

  @Override
  public CompletionStage<User> addAsync(User user) {
    var call = CallScope.current();
    var traced = Context.current();
    return inserts.submit(user).thenCompose(stored -> stored.isPresent()
        ? CompletableFuture.completedStage(stored.get())
        // As in add: alone, on a thread that may block, whichever thread completed the batch.
        : CompletableFuture.supplyAsync(
            traced.wrapSupplier(() -> call.call(() -> inDatabase(handle -> insert(handle, user)))), writesAlone));
  }

  /**
   * The batch statement of {@link #inserts}: the users stored, null for those skipped; a lone user
   * takes the plain insert, which fails when its email is taken.
   */
  private List<User> insertAll(List<User> users) {
    return jdbi.withHandle(handle -> {
      if (users.size() == 1) {
        return List.of(insert(handle, users.getFirst()));
      }
      // Rows go in email order: two batches sharing emails meet at the lowest shared one, where one
      // waits for the other's commit; in any order, each could hold a row the other waits for, a
      // deadlock that PostgreSQL breaks by failing one. One row per id: a second user of an id
      // goes alone, and fails as it would have.
      var rows = new HashMap<UserId, Row>(users.size() * 2);
      for (var user : users) {
        rows.putIfAbsent(user.id(), new Row(user, user.email().canonical()));
      }
      var sorted = rows.values().stream().sorted(Comparator.comparing(Row::emailCanonical)).toList();
      var stored = new HashMap<UserId, User>(sorted.size() * 2);
      handle.createQuery(INSERT_ALL)
          .bindArray("ids", UUID.class, sorted.stream().map(row -> row.user().id().value()).toList())
          .bindArray("emails", String.class, sorted.stream().map(row -> row.user().email().value()).toList())
          .bindArray("emails_canonical", String.class, sorted.stream().map(Row::emailCanonical).toList())
          .bindArray("display_names", String.class, sorted.stream().map(row -> row.user().displayName().value()).toList())
          .bindArray("create_times", String.class, sorted.stream().map(row -> row.user().createTime().toString()).toList())
          .bindArray("update_times", String.class, sorted.stream().map(row -> row.user().updateTime().toString()).toList())
          .map(USER)
          .forEach(user -> stored.put(user.id(), user));
      var results = new ArrayList<User>(users.size());
      for (var user : users) {
        results.add(rows.get(user.id()).user() == user ? stored.remove(user.id()) : null);
      }
      return results;
    });
  }

  private record Row(User user, String emailCanonical) {}

  private static User insert(Handle handle, User user) {
    return storing(user.email(), () -> bindUser(handle.createQuery(INSERT), user).map(USER).one());
  }

  // Keyed adds are not batched: the creates of the hot path send no key, and their one statement
  // keeps in one place what tells a used key (answered with the user stored under it) from a
  // taken email.
  @Override
  public User add(User user, IdempotencyKey idempotencyKey) {
    return inDatabase(handle -> storing(user.email(), () -> {
      while (true) {
        var inserted = bindUser(handle.createQuery(INSERT_UNLESS_KEY_USED), user)
            .bind("idempotency_key", idempotencyKey.value())
            .map(USER)
            .findOne();
        if (inserted.isPresent()) {
          return inserted.get();
        }
        // The insert returns nothing on a conflict. A new statement sees the row that caused it,
        // even one that a concurrent call with the same idempotency key committed meanwhile.
        var earlier = handle.createQuery(SELECT_BY_IDEMPOTENCY_KEY)
            .bind("idempotency_key", idempotencyKey.value())
            .map(USER)
            .findOne();
        if (earlier.isPresent()) {
          return earlier.get();
        }
        // The earlier user was deleted in between, and its idempotency key with it: insert again.
      }
    }));
  }

  @Override
  public CompletionStage<User> addAsync(User user, IdempotencyKey idempotencyKey) {
    var call = CallScope.current();
    return CompletableFuture.supplyAsync(
        Context.current().wrapSupplier(() -> call.call(() -> add(user, idempotencyKey))), writesAlone);
  }

  @Override
  public List<User> addAll(List<User> users) {
    if (users.isEmpty()) {
      return List.of();
    }
    // The COPY is no JDBI statement, which CallScopeStatementCustomizer would stop for a call
    // that is over.
    CallScope.current().throwIfCancelled();
    var stored = inDatabase(handle -> {
      try {
        return BatchInsert.insertAll(handle, users) ? null : BatchInsert.insertSkippingTakenEmails(handle, users);
      } catch (SQLException e) {
        // The COPY's failures join the statements' on their way to the port's errors.
        throw new UnableToExecuteStatementException(e, null);
      }
    });
    // Stored exactly as given: a new user has version 1 and whole microseconds, as its row has.
    return stored == null ? List.copyOf(users) : users.stream().filter(user -> stored.contains(user.id())).toList();
  }

  @Override
  public Optional<User> findById(UserId id) {
    return lookups.apply(id);
  }

  @Override
  public CompletionStage<Optional<User>> findByIdAsync(UserId id) {
    return lookups.submit(id);
  }

  /**
   * The batch query of {@link #lookups}: the users found, null for unknown ids; a lone id takes the
   * plain lookup by primary key.
   */
  private List<User> findAll(List<UserId> ids) {
    return jdbi.withHandle(handle -> {
      if (ids.size() == 1) {
        return Collections.singletonList(find(handle, ids.getFirst(), SELECT_BY_ID).orElse(null));
      }
      var found = new HashMap<UserId, User>(ids.size() * 2);
      handle.createQuery(SELECT_BY_IDS)
          .bindArray("ids", UUID.class, ids.stream().map(UserId::value).distinct().toList())
          .map(USER)
          .forEach(user -> found.put(user.id(), user));
      var results = new ArrayList<User>(ids.size());
      ids.forEach(id -> results.add(found.get(id)));
      return results;
    });
  }

  @Override
  public User update(UserId id, UnaryOperator<User> change) {
    return inDatabase(handle -> readModifyWrite(handle, id, current -> {
      var changed = change.apply(current);
      return storing(changed.email(), () -> handle.createQuery(UPDATE)
          .bind("id", id.value())
          .bind("version", current.version())
          .bind("email", changed.email().value())
          .bind("email_canonical", changed.email().canonical())
          .bind("display_name", changed.displayName().value())
          .bind("update_time", utc(changed.updateTime()))
          .map(USER)
          .findOne());
    }));
  }

  @Override
  public void delete(UserId id, Consumer<User> precondition) {
    inDatabase(handle -> readModifyWrite(handle, id, current -> {
      precondition.accept(current);
      int deleted = handle.createUpdate(DELETE)
          .bind("id", id.value())
          .bind("version", current.version())
          .execute();
      return deleted == 0 ? Optional.empty() : Optional.of(current);
    }));
  }

  /**
   * Reads the user and writes it with {@code write}, which runs the caller's function on it and
   * returns empty when its conditional write found the version changed: then again on the user as
   * it is now, and the last time under the row's lock, where the version cannot change.
   */
  private static User readModifyWrite(Handle handle, UserId id, Function<User, Optional<User>> write) {
    for (int attempt = 1; attempt < ATTEMPTS; attempt++) {
      var current = find(handle, id, SELECT_BY_ID).orElseThrow(() -> new UserNotFoundException(id));
      var written = write.apply(current);
      if (written.isPresent()) {
        return written.get();
      }
    }
    return handle.inTransaction(transaction -> {
      var current = find(transaction, id, SELECT_BY_ID_FOR_UPDATE).orElseThrow(() -> new UserNotFoundException(id));
      return write.apply(current)
          .orElseThrow(() -> new IllegalStateException("user " + id + " changed although its row was locked"));
    });
  }

  private static Optional<User> find(Handle handle, UserId id, String select) {
    return handle.createQuery(select).bind("id", id.value()).map(USER).findOne();
  }

  @Override
  public void forEach(Optional<UserId> after, int limit, Consumer<? super User> each) {
    requirePositive(limit);
    // The COPY is no JDBI statement, which CallScopeStatementCustomizer would stop for a call
    // that is over; it is bounded by the limit and by the statement timeout instead.
    CallScope.current().throwIfCancelled();
    inDatabase(handle -> {
      try {
        CopyListing.forEach(handle, after, limit, each);
        return null;
      } catch (SQLException e) {
        throw new UnableToExecuteStatementException(e, null);
      }
    });
  }

  private static <S extends SqlStatement<S>> S bindUser(S statement, User user) {
    return statement
        .bind("id", user.id().value())
        .bind("email", user.email().value())
        .bind("email_canonical", user.email().canonical())
        .bind("display_name", user.displayName().value())
        .bind("create_time", utc(user.createTime()))
        .bind("update_time", utc(user.updateTime()));
  }

  private static OffsetDateTime utc(Instant instant) {
    return instant.atOffset(ZoneOffset.UTC);
  }

  private static void requirePositive(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, got " + limit);
    }
  }

  // The one place where SQL failures become the port's errors, and the only use of the pool: a
  // method's statements, a read-modify-write's reads and writes included, share one handle.

  private <T> T inDatabase(HandleCallback<T, RuntimeException> work) {
    try {
      return jdbi.withHandle(work);
    } catch (JdbiException e) {
      throw unavailableOrAsIs(e);
    }
  }

  /**
   * Runs, inside {@link #inDatabase}, a statement that writes {@code email}: a duplicate means it is
   * taken. Any other failure goes on to {@link #inDatabase}.
   */
  private static <T> T storing(Email email, Supplier<T> write) {
    try {
      return write.get();
    } catch (JdbiException e) {
      if (violatedConstraint(e).filter(EMAIL_KEY::equals).isPresent()) {
        throw new EmailAlreadyTakenException(email);
      }
      throw e;
    }
  }

  private static RuntimeException unavailableOrAsIs(JdbiException failure) {
    return unavailableOrAsIs(failure, CallScope.current());
  }

  private static RuntimeException unavailableOrAsIs(JdbiException failure, CallScope call) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      // Cancelled by CallScopeStatementCustomizer because the call is over, not by the server.
      if (call.isCancelled() && cause instanceof SQLException sql && "57014".equals(sql.getSQLState())) {
        return call.cancellation(failure);
      }
      // HikariCP's "no connection within the connection timeout".
      if (cause instanceof SQLTransientConnectionException
          || cause instanceof SQLException sql && sql.getSQLState() != null
              && (sql.getSQLState().startsWith("08") || UNAVAILABLE_STATES.contains(sql.getSQLState()))) {
        return new StorageUnavailableException("storage is unavailable, try again later", failure);
      }
    }
    return failure;
  }

  private static Optional<String> violatedConstraint(JdbiException failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof PSQLException psql && "23505".equals(psql.getSQLState())
          && psql.getServerErrorMessage() != null) {
        return Optional.ofNullable(psql.getServerErrorMessage().getConstraint());
      }
    }
    return Optional.empty();
  }
}
