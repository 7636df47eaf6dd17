package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.users.adapter.persistence.PostgresTestDatabase;
import dev.users.adapter.persistence.TableLock;
import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.GetUserResponse;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Deadlines and cancellation reach the database: through the real server and a real socket, a
 * call that ends while its statement waits on a locked table takes the statement with it, and its
 * connection goes back to the pool at once. Table locks come from a second connection of the test.
 *
 * <p>The figures measured are printed; the bounds asserted are generous (the targets are 50 ms for
 * the status and 200 ms for the statement), since the machine may be busy.
 */
class DeadlineFaultTest {

  private static final int POOL_SIZE = 10;
  private static final Duration GENEROUS = Duration.ofSeconds(2);

  private final List<AutoCloseable> resources = new ArrayList<>();
  private ManagedChannel channel;
  private String schema;
  private TableLock locker;

  @AfterEach
  void release() throws Exception {
    for (var resource : resources.reversed()) {
      resource.close();
    }
    if (schema != null) {
      PostgresTestDatabase.get().dropSchema(schema);
    }
  }

  @Test
  void aDeadlinePassingMidQueryAnswersDeadlineExceededAndCancelsTheStatement() throws Exception {
    var users = startOnPostgresql();
    var id = createUser(users);
    lockTheUsersTable();

    long start = System.nanoTime();
    var answer = users.withDeadlineAfter(300, TimeUnit.MILLISECONDS)
        .getUser(GetUserRequest.newBuilder().setId(id).build());
    locker.awaitWaitingStatements(n -> n == 1, "the GetUser statement to wait for the lock");
    var failure = failureOf(answer);
    long answered = System.nanoTime();
    long gone = locker.awaitWaitingStatements(n -> n == 0, "the abandoned statement to leave pg_stat_activity");

    long deadline = start + TimeUnit.MILLISECONDS.toNanos(300);
    System.out.printf("GetUser with a 300 ms deadline on a locked table: %s after %d ms; "
            + "its statement gone from pg_stat_activity %d ms after the deadline%n",
        failure.getStatus().getCode(), millis(answered - start), millis(gone - deadline));
    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(Duration.ofNanos(answered - deadline)).isLessThan(GENEROUS);
    assertThat(Duration.ofNanos(gone - deadline)).isLessThan(GENEROUS);
  }

  @Test
  void callsCancelledByTheClientMidQueryGiveTheirConnectionsBackAtOnce() throws Exception {
    var users = startOnPostgresql();
    var id = createUser(users);
    lockTheUsersTable();

    long start = System.nanoTime();
    var calls = new ArrayList<Future<GetUserResponse>>();
    for (int i = 0; i < 2 * POOL_SIZE; i++) {
      calls.add(users.withDeadlineAfter(30, TimeUnit.SECONDS).getUser(GetUserRequest.newBuilder().setId(id).build()));
    }
    // Lookups that arrive together share statements (the repository batches them), so fewer
    // statements than calls wait; the others wait for their turn, and all are in by 300 ms.
    locker.awaitWaitingStatements(n -> n > 0, "the lookups' statements to wait for the lock");
    TimeUnit.NANOSECONDS.sleep(start + TimeUnit.MILLISECONDS.toNanos(300) - System.nanoTime());
    long cancelled = System.nanoTime();
    calls.forEach(call -> call.cancel(true));
    long freed = locker.awaitWaitingStatements(n -> n == 0, "the cancelled statements to leave pg_stat_activity");
    locker.release();
    long unlocked = System.nanoTime();
    var user = users.withDeadlineAfter(5, TimeUnit.SECONDS).getUser(GetUserRequest.newBuilder().setId(id).build())
        .get();
    long served = System.nanoTime();

    System.out.printf("%d GetUser cancelled by the client after 300 ms on a locked table: every statement gone "
            + "from pg_stat_activity %d ms after the cancel; a GetUser after unlocking took %d ms%n",
        calls.size(), millis(freed - cancelled), millis(served - unlocked));
    assertThat(Duration.ofNanos(freed - cancelled)).isLessThan(GENEROUS);
    assertThat(user.getUser().getId()).isEqualTo(id);
  }

  @Test
  void aHealthWatchWithoutDeadlineStaysOpenPastTheDefaultDeadline() throws Exception {
    startServer(Map.of("USERS_STORAGE", "memory", "USERS_DEFAULT_DEADLINE", "300ms"));
    var events = new LinkedBlockingQueue<Object>();
    var watch = Context.current().withCancellation();
    resources.add(() -> watch.cancel(null));

    watch.run(() -> HealthGrpc.newStub(channel).watch(HealthCheckRequest.getDefaultInstance(), new StreamObserver<>() {
      @Override
      public void onNext(HealthCheckResponse response) {
        events.add(response.getStatus());
      }

      @Override
      public void onError(Throwable error) {
        events.add(Status.fromThrowable(error).getCode());
      }

      @Override
      public void onCompleted() {
        events.add("completed");
      }
    }));

    assertThat(events.poll(5, TimeUnit.SECONDS)).isEqualTo(ServingStatus.SERVING);
    long start = System.nanoTime();
    var ending = events.poll(1, TimeUnit.SECONDS);
    System.out.printf("health Watch without deadline, default deadline 300 ms: %s after %d ms%n",
        ending == null ? "still open" : "ended with " + ending, millis(System.nanoTime() - start));
    assertThat(ending).as("how the Watch ended within a second").isNull();
  }

  private UserServiceGrpc.UserServiceFutureStub startOnPostgresql() throws SQLException {
    var database = PostgresTestDatabase.get();
    schema = database.newSchemaName();
    startServer(Map.of(
        "USERS_STORAGE", "postgres",
        "USERS_DB_URL", database.jdbcUrl(),
        "USERS_DB_USER", database.user(),
        "USERS_DB_PASSWORD", database.password(),
        "USERS_DB_SCHEMA", schema,
        "USERS_DB_POOL_SIZE", Integer.toString(POOL_SIZE),
        // Far beyond the test: only the call's own end may stop its statement.
        "USERS_DB_STATEMENT_TIMEOUT", "1h"));
    return UserServiceGrpc.newFutureStub(channel);
  }

  private void startServer(Map<String, String> settings) {
    var env = new HashMap<>(settings);
    env.put("USERS_GRPC_PORT", "0");
    env.put("USERS_SHUTDOWN_GRACE", "1s");
    var server = UsersServer.start(Config.from(env));
    resources.add(server::stop);
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
        .build();
    resources.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
  }

  private static String createUser(UserServiceGrpc.UserServiceFutureStub users) throws Exception {
    var created = users.withDeadlineAfter(5, TimeUnit.SECONDS).createUser(CreateUserRequest.newBuilder()
        .setEmail("ada@example.org").setDisplayName("Ada").build()).get();
    // Once through GetUser first, so that the measured call does not pay for class loading.
    users.withDeadlineAfter(5, TimeUnit.SECONDS)
        .getUser(GetUserRequest.newBuilder().setId(created.getUser().getId()).build()).get();
    return created.getUser().getId();
  }

  /** Takes a lock that every statement on the table waits for, until {@code locker} releases it. */
  private void lockTheUsersTable() throws SQLException {
    locker = TableLock.ofReadsAndWrites(PostgresTestDatabase.get(), schema);
    resources.add(locker);
  }


  private static StatusRuntimeException failureOf(Future<?> answer) throws Exception {
    var failure = catchThrowableOfType(ExecutionException.class, () -> answer.get(10, TimeUnit.SECONDS));
    assertThat(failure).as("the call failed").isNotNull();
    return (StatusRuntimeException) failure.getCause();
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
