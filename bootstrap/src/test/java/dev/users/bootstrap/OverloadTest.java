package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.RetryInfo;
import dev.users.adapter.persistence.PostgresTestDatabase;
import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.GetUserResponse;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * More calls than the database can serve: the users table is locked from another connection, so
 * every call that reaches the database waits. The excess must be refused quickly with a status a
 * client can act on, not wait until its deadline or fail INTERNAL.
 */
class OverloadTest {

  private static final int CALLS = 200;
  private static final int POOL_SIZE = 10;
  /** Longer than the test's other waits, so that "refused at once" and "waited" tell apart. */
  private static final long CONNECTION_TIMEOUT_MS = 2_000;
  private static final long DEADLINE_MS = 30_000;

  private final PostgresTestDatabase database = PostgresTestDatabase.get();
  private final String schema = database.newSchemaName();
  private UsersServer server;
  private ManagedChannel channel;

  @BeforeEach
  void startServer() {
    server = UsersServer.start(Config.from(Map.ofEntries(
        Map.entry("USERS_STORAGE", "postgres"),
        Map.entry("USERS_DB_URL", database.jdbcUrl()),
        Map.entry("USERS_DB_USER", database.user()),
        Map.entry("USERS_DB_PASSWORD", database.password()),
        Map.entry("USERS_DB_SCHEMA", schema),
        Map.entry("USERS_DB_POOL_SIZE", Integer.toString(POOL_SIZE)),
        // Four per connection: one running, three waiting for it at most the connection timeout.
        Map.entry("USERS_MAX_UNARY_CALLS_IN_FLIGHT", Integer.toString(4 * POOL_SIZE)),
        Map.entry("USERS_DB_CONNECTION_TIMEOUT", CONNECTION_TIMEOUT_MS + "ms"),
        Map.entry("USERS_DB_STATEMENT_TIMEOUT", "3s"),
        // So that the server, not the client waiting for a stream of its one connection, bounds them.
        Map.entry("USERS_MAX_CONCURRENT_CALLS_PER_CONNECTION", Integer.toString(CALLS)),
        Map.entry("USERS_GRPC_PORT", "0"))));
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
        .build();
  }

  @AfterEach
  void stopServer() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.stop();
    database.dropSchema(schema);
  }

  @Test
  void callsBeyondWhatTheDatabaseServesAreRefusedQuicklyWithRetryInfoAndServiceResumesAfter() throws Exception {
    var users = UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    var id = users.createUser(CreateUserRequest.newBuilder().setEmail("ada@example.org").setDisplayName("Ada").build())
        .getUser().getId();
    var request = GetUserRequest.newBuilder().setId(id).build();

    var outcomes = new ArrayList<CompletableFuture<Outcome>>();
    try (var lock = DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password())) {
      lock.setAutoCommit(false);
      lock.createStatement().execute("lock table " + schema + ".users in access exclusive mode");

      var async = UserServiceGrpc.newStub(channel);
      for (int i = 0; i < CALLS; i++) {
        var outcome = new CompletableFuture<Outcome>();
        long start = System.nanoTime();
        async.withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS).getUser(request, new StreamObserver<>() {
          @Override
          public void onNext(GetUserResponse response) {}

          @Override
          public void onError(Throwable error) {
            outcome.complete(new Outcome(Status.fromThrowable(error).getCode(),
                StatusProto.fromThrowable(error) != null && StatusProto.fromThrowable(error).getDetailsList().stream()
                    .anyMatch(detail -> detail.is(RetryInfo.class)),
                elapsedMs(start)));
          }

          @Override
          public void onCompleted() {
            outcome.complete(new Outcome(Status.Code.OK, false, elapsedMs(start)));
          }
        });
        outcomes.add(outcome);
      }
      CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new)).get(DEADLINE_MS + 10_000, TimeUnit.MILLISECONDS);
      lock.rollback();
    }

    var ended = outcomes.stream().map(CompletableFuture::join).toList();
    var byStatus = new TreeMap<String, Integer>();
    ended.forEach(outcome -> byStatus.merge(outcome.code() + (outcome.retryInfo() ? "+RetryInfo" : ""), 1, Integer::sum));
    var times = ended.stream().mapToLong(Outcome::elapsedMs).sorted().toArray();
    long refusedAtOnce = ended.stream().filter(outcome -> outcome.elapsedMs() < CONNECTION_TIMEOUT_MS).count();
    System.out.printf("%d GetUser on a locked table: %s; %d answered before the connection timeout (%d ms);"
            + " time p50 %d ms, p90 %d ms, max %d ms%n",
        CALLS, byStatus, refusedAtOnce, CONNECTION_TIMEOUT_MS, times[times.length / 2], times[times.length * 9 / 10],
        times[times.length - 1]);

    assertThat(ended).allSatisfy(outcome -> {
      assertThat(outcome.code()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(outcome.retryInfo()).isTrue();
    });
    assertThat(times[times.length - 1]).as("the slowest answer, well under the deadline").isLessThan(DEADLINE_MS / 2);
    // Only the calls the pool can hold or queue wait for the database; the rest are refused at
    // once instead of each waiting the connection timeout for a connection.
    assertThat(refusedAtOnce).as("calls refused before the connection timeout").isGreaterThanOrEqualTo(CALLS / 2);
    assertThat(afterRetryDelays(() -> users.getUser(request)).getUser().getId()).isEqualTo(id);
  }

  /**
   * Calls as a client following RetryInfo would, a few times at most: the server counts a call
   * out only once it completed there, which may be just after its client saw the answer.
   */
  private static <T> T afterRetryDelays(Supplier<T> call) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        return call.get();
      } catch (StatusRuntimeException e) {
        if (attempt == 5 || e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
          throw e;
        }
        Thread.sleep(1_000);
      }
    }
  }

  private static long elapsedMs(long start) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  private record Outcome(Status.Code code, boolean retryInfo, long elapsedMs) {}
}
