package dev.users.benchmark.jmh;

import dev.users.adapter.persistence.PostgresSettings;
import dev.users.adapter.persistence.PostgresStorage;
import dev.users.application.port.UserRepository;
import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.User;
import dev.users.domain.UserId;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What one lookup by id costs, one caller at a time, on a schema of its own: through the
 * repository (JDBI, HikariCP, the call-scope customizer, the telemetry plugin), through a plain
 * pgjdbc prepared statement on one connection, and as one of 32 ids of a single {@code = ANY}
 * query, the repository's batch. The differences are the statement machinery per call and what
 * batching saves of it and of the round trip.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class LookupByIdBenchmark {

  private static final String COLUMNS = "id, email, display_name, create_time, update_time, version";
  private static final int USERS = 10_000;
  private static final int BATCH = 32;

  /** The server the load generator uses too: BENCH_DB_URL, BENCH_DB_USER, BENCH_DB_PASSWORD. */
  private final String url = System.getenv().getOrDefault("BENCH_DB_URL", "jdbc:postgresql://127.0.0.1:5432/postgres");
  private final String user = System.getenv().getOrDefault("BENCH_DB_USER", "postgres");
  private final String password = System.getenv().getOrDefault("BENCH_DB_PASSWORD", "");
  private final String schema = "jmh_lookup_" + Long.toString(System.nanoTime(), 36);
  private PostgresStorage storage;
  private UserRepository users;
  private Connection connection;
  private PreparedStatement byId;
  private PreparedStatement byIds;
  private UUID[] ids;

  @Setup(Level.Trial)
  public void open() throws SQLException {
    storage = PostgresStorage.open(new PostgresSettings(url, user, password, schema, 4, Duration.ofSeconds(1),
        Duration.ofSeconds(5)));
    users = storage.users();
    var stored = new ArrayList<UUID>(USERS);
    var now = Instant.now();
    var batch = new ArrayList<User>();
    for (int i = 0; i < USERS; i++) {
      var id = new UUID(ThreadLocalRandom.current().nextLong(), ThreadLocalRandom.current().nextLong());
      batch.add(User.reconstitute(new UserId(id), new Email("jmh-" + i + "@example.org"),
          new DisplayName("Jmh User " + i), now, now, 1));
      stored.add(id);
      if (batch.size() == 1_000) {
        users.addAll(batch);
        batch.clear();
      }
    }
    ids = stored.toArray(UUID[]::new);
    connection = DriverManager.getConnection(url + "?currentSchema=" + schema, user, password);
    byId = connection.prepareStatement("SELECT " + COLUMNS + " FROM users WHERE id = ?");
    byIds = connection.prepareStatement("SELECT " + COLUMNS + " FROM users WHERE id = ANY(?)");
  }

  @TearDown(Level.Trial)
  public void close() throws SQLException {
    connection.close();
    storage.close();
    try (var admin = DriverManager.getConnection(url, user, password)) {
      admin.createStatement().execute("DROP SCHEMA " + schema + " CASCADE");
    }
  }

  @Benchmark
  public Optional<User> repositoryFindById() {
    return users.findById(new UserId(anyId()));
  }

  @Benchmark
  public Optional<User> plainJdbcById() throws SQLException {
    byId.setObject(1, anyId());
    try (var rows = byId.executeQuery()) {
      return rows.next() ? Optional.of(user(rows)) : Optional.empty();
    }
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void plainJdbcOneOf32ByAny(Blackhole found) throws SQLException {
    var batch = new UUID[BATCH];
    for (int i = 0; i < BATCH; i++) {
      batch[i] = anyId();
    }
    byIds.setArray(1, connection.createArrayOf("uuid", batch));
    try (var rows = byIds.executeQuery()) {
      while (rows.next()) {
        found.consume(user(rows));
      }
    }
  }

  private UUID anyId() {
    return ids[ThreadLocalRandom.current().nextInt(ids.length)];
  }

  private static User user(java.sql.ResultSet row) throws SQLException {
    return User.reconstitute(
        new UserId(row.getObject(1, UUID.class)),
        Email.fromStorage(row.getString(2)),
        DisplayName.fromStorage(row.getString(3)),
        row.getObject(4, OffsetDateTime.class).toInstant(),
        row.getObject(5, OffsetDateTime.class).toInstant(),
        row.getLong(6));
  }
}
