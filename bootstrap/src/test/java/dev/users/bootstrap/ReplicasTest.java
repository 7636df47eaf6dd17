package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.FieldMask;
import dev.users.adapter.persistence.PostgresTestDatabase;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.User;
import dev.users.application.port.IdempotencyKey;
import dev.users.application.port.UserRepository;
import dev.users.client.UsersClient;
import dev.users.client.UsersClientException;
import dev.users.domain.UserId;
import java.net.InetSocketAddress;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three replicas of the service on one PostgreSQL schema, called through one {@link UsersClient}
 * over their fixed addresses, one of them stopped gracefully (what SIGTERM does) while the load
 * runs. Each replica counts the calls it serves through its storage port: every call of this load
 * makes exactly one repository call, and the count is taken where the call is served, whatever
 * the client's balancing did.
 */
class ReplicasTest {

  private static final int REPLICAS = 3;
  private static final int CALLERS = 8;
  private static final Duration LOAD = Duration.ofSeconds(20);
  private static final int MAX_ROUNDS_PER_CALLER = 20_000;

  private final PostgresTestDatabase database = PostgresTestDatabase.get();
  private final String schema = database.newSchemaName();
  private final List<UsersServer> servers = new ArrayList<>();
  private final List<CountingUserRepository> served = new ArrayList<>();

  @BeforeEach
  void startReplicas() {
    for (int i = 0; i < REPLICAS; i++) {
      var config = Config.from(Map.of(
          "USERS_GRPC_PORT", "0",
          "USERS_STORAGE", "postgres",
          "USERS_DB_URL", database.jdbcUrl(),
          "USERS_DB_USER", database.user(),
          "USERS_DB_PASSWORD", database.password(),
          "USERS_DB_SCHEMA", schema,
          "USERS_DB_POOL_SIZE", "4",
          // Long enough for the client to see readiness go NOT_SERVING while calls are still served.
          "USERS_SHUTDOWN_DRAIN", "500ms",
          "USERS_SHUTDOWN_GRACE", "5s"));
      var storage = Storage.open(config);
      var counting = new CountingUserRepository(storage.users());
      served.add(counting);
      servers.add(UsersServer.start(config,
          new Storage(counting, storage.isAvailable(), storage.resources(), storage.description()),
          Duration.ofMillis(100)));
    }
  }

  @AfterEach
  void stopReplicas() {
    servers.forEach(UsersServer::stop);
    database.dropSchema(schema);
  }

  @Test
  void oneClientSpreadsCallsOverTheReplicasAndLosesNoneWhenOneStops() throws Exception {
    var addresses = servers.stream().map(server -> new InetSocketAddress("127.0.0.1", server.port())).toList();
    var failures = new ConcurrentLinkedQueue<String>();
    var created = ConcurrentHashMap.<String>newKeySet();
    var calls = new AtomicLong();
    var stopping = servers.get(REPLICAS - 1);
    long servedBeforeStop;
    long servedAtStop;
    long started = System.nanoTime();
    long until = started + LOAD.toNanos();

    try (var client = UsersClient.forAddresses(addresses).usePlaintext().deadline(Duration.ofSeconds(10)).build();
        var callers = Executors.newFixedThreadPool(CALLERS)) {
      var load = new ArrayList<Future<?>>();
      for (int caller = 0; caller < CALLERS; caller++) {
        int id = caller;
        load.add(callers.submit(() -> callUntil(client, id, until, calls, created, failures)));
      }
      Thread.sleep(LOAD.dividedBy(2));
      servedBeforeStop = served.get(REPLICAS - 1).calls();
      stopping.stop();
      servedAtStop = served.get(REPLICAS - 1).calls();
      for (var caller : load) {
        caller.get(LOAD.toSeconds() + 30, TimeUnit.SECONDS);
      }
    }
    var took = Duration.ofNanos(System.nanoTime() - started);
    var stored = storedUsers();
    var perReplica = served.stream().map(CountingUserRepository::calls).toList();

    System.out.printf("replicas: %d calls in %d ms through one client; served per replica %s (the last stopped"
            + " half-way, having served %d before its stop began and %d in all); %d failures %s;"
            + " %d creates acknowledged, %d rows stored, %d distinct idempotency keys%n",
        calls.get(), took.toMillis(), perReplica, servedBeforeStop, servedAtStop, failures.size(),
        failures.stream().limit(5).toList(), created.size(), stored.rows(), stored.keys());
    assertThat(failures).isEmpty();
    assertThat(stored.rows()).as("no user created twice").isEqualTo(created.size());
    assertThat(stored.keys()).isEqualTo(stored.rows());
    assertThat(servedBeforeStop).as("the stopped replica served its share before").isPositive();
    var remaining = perReplica.subList(0, REPLICAS - 1);
    var fairShare = remaining.stream().mapToLong(Long::longValue).average().orElseThrow();
    assertThat(remaining).allSatisfy(count ->
        assertThat((double) count).isBetween(fairShare * 0.8, fairShare * 1.2));
  }

  /**
   * Mixed load from one caller: a create (with the client's idempotency key), a get, a
   * conditional update of the user it created, every second round an unconditional one, and every
   * fourth round a listing. Each caller changes only its own users, so an etag mismatch would mean
   * a write applied twice.
   */
  private static void callUntil(UsersClient client, int caller, long until, AtomicLong calls,
      Set<String> created, ConcurrentLinkedQueue<String> failures) {
    for (int round = 0; round < MAX_ROUNDS_PER_CALLER && System.nanoTime() < until; round++) {
      var step = "create";
      try {
        var user = client.createUser("caller" + caller + "-" + round + "@example.org", "Caller " + caller);
        created.add(user.getId());
        calls.incrementAndGet();
        step = "get";
        var read = client.getUser(user.getId());
        calls.incrementAndGet();
        step = "update";
        client.updateUser(UpdateUserRequest.newBuilder()
            .setUser(User.newBuilder().setId(read.getId()).setEtag(read.getEtag()).setDisplayName("Renamed " + round))
            .setUpdateMask(FieldMask.newBuilder().addPaths("display_name"))
            .build());
        calls.incrementAndGet();
        if (round % 2 == 0) {
          // Never retried by the client: it survives the stop only because the stopping server
          // finishes every call it accepted, and the client sends none to it after its GOAWAY
          // (grpc-java retries transparently a stream that crossed the GOAWAY unprocessed).
          step = "unconditional update";
          client.updateUser(UpdateUserRequest.newBuilder()
              .setUser(User.newBuilder().setId(read.getId()).setDisplayName("Overwritten " + round))
              .setUpdateMask(FieldMask.newBuilder().addPaths("display_name"))
              .build());
          calls.incrementAndGet();
        }
        if (round % 4 == 0) {
          step = "list";
          try (var page = client.listUsers(10, "")) {
            page.forEach(listed -> { });
          }
          calls.incrementAndGet();
        }
      } catch (UsersClientException e) {
        failures.add(step + ": " + e.getClass().getSimpleName() + " " + e.getMessage());
      }
    }
  }

  private record Stored(long rows, long keys) {}

  private Stored storedUsers() throws SQLException {
    try (var connection = DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
        var statement = connection.createStatement();
        var rows = statement.executeQuery(
            "SELECT count(*), count(DISTINCT idempotency_key) FROM " + schema + ".users")) {
      rows.next();
      return new Stored(rows.getLong(1), rows.getLong(2));
    }
  }

  /** The replica's repository, counting the calls made to it: one per call served in this load. */
  private static final class CountingUserRepository implements UserRepository {

    private final UserRepository users;
    private final AtomicLong calls = new AtomicLong();

    CountingUserRepository(UserRepository users) {
      this.users = users;
    }

    long calls() {
      return calls.get();
    }

    @Override
    public dev.users.domain.User add(dev.users.domain.User user) {
      calls.incrementAndGet();
      return users.add(user);
    }

    @Override
    public dev.users.domain.User add(dev.users.domain.User user, IdempotencyKey idempotencyKey) {
      calls.incrementAndGet();
      return users.add(user, idempotencyKey);
    }

    @Override
    public List<dev.users.domain.User> addAll(List<dev.users.domain.User> batch) {
      calls.incrementAndGet();
      return users.addAll(batch);
    }

    @Override
    public Optional<dev.users.domain.User> findById(UserId id) {
      calls.incrementAndGet();
      return users.findById(id);
    }

    @Override
    public dev.users.domain.User update(UserId id, UnaryOperator<dev.users.domain.User> change) {
      calls.incrementAndGet();
      return users.update(id, change);
    }

    @Override
    public void delete(UserId id, Consumer<dev.users.domain.User> precondition) {
      calls.incrementAndGet();
      users.delete(id, precondition);
    }

    @Override
    public void forEach(Optional<UserId> after, int limit, Consumer<? super dev.users.domain.User> each) {
      calls.incrementAndGet();
      users.forEach(after, limit, each);
    }
  }
}
