package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.users.adapter.persistence.PostgresTestDatabase;
import dev.users.adapter.persistence.TableLock;
import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.CreateUserResponse;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SIGTERM to the service jar on PostgreSQL while it is busy: calls held in the server and a
 * listing a slow client has barely started. Shutdown must let all of them finish.
 */
class ShutdownUnderLoadIT {

  private static final int CALLS_IN_FLIGHT = 100;
  private static final int LISTED_USERS = 3_000;
  private static final int POOL_SIZE = 10;

  @RegisterExtension
  final ServiceJar.Launcher services = new ServiceJar.Launcher();

  private final PostgresTestDatabase database = PostgresTestDatabase.get();
  private final String schema = database.newSchemaName();
  private final List<ManagedChannel> channels = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    channels.forEach(ManagedChannel::shutdownNow);
    database.dropSchema(schema);
  }

  @Test
  void sigtermWithAHundredCallsInFlightAndASlowListingFailsNoneLosesNoneAndFinishesTheListing() throws Exception {
    var service = services.start(Map.of(
        "USERS_GRPC_PORT", "0",
        "USERS_DB_URL", database.jdbcUrl(),
        "USERS_DB_USER", database.user(),
        "USERS_DB_PASSWORD", database.password(),
        "USERS_DB_SCHEMA", schema,
        "USERS_DB_POOL_SIZE", Integer.toString(POOL_SIZE),
        // Calls wait for the table lock and then for a connection: neither wait may fail them.
        "USERS_DB_CONNECTION_TIMEOUT", "1m",
        "USERS_DB_STATEMENT_TIMEOUT", "1m",
        "USERS_SHUTDOWN_GRACE", "30s"));
    int port = service.awaitPort();
    var items = new ArrayList<ImportUsersRequest>();
    for (int i = 0; i < LISTED_USERS; i++) {
      items.add(ImportUsersRequest.newBuilder().setEmail("listed" + i + "@example.org").setDisplayName("Listed " + i).build());
    }
    assertThat(UsersServiceEndToEndTest.importUsers(channel(port), items).getCreatedCount()).isEqualTo(LISTED_USERS);

    // A fixed 64 KiB window: the server can send only a few of the listing's messages ahead.
    var listing = SlowListing.start(
        keep(NettyChannelBuilder.forAddress("127.0.0.1", port, InsecureChannelCredentials.create())
            .flowControlWindow(64 * 1024).build()),
        ListUsersRequest.getDefaultInstance());
    listing.takeOne();

    var creates = new ArrayList<CompletableFuture<CreateUserResponse>>();
    try (var lock = TableLock.ofWrites(database, schema)) {
      // Two connections: one carries at most USERS_MAX_CONCURRENT_CALLS_PER_CONNECTION (100) calls.
      var stubs = List.of(
          UserServiceGrpc.newFutureStub(channel(port)), UserServiceGrpc.newFutureStub(channel(port)));
      for (int i = 0; i < CALLS_IN_FLIGHT; i++) {
        var request = CreateUserRequest.newBuilder()
            .setEmail("inflight" + i + "@example.org").setDisplayName("In flight " + i)
            .setIdempotencyKey("inflight-" + i).build();
        var call = stubs.get(i % 2).withDeadlineAfter(2, TimeUnit.MINUTES).createUser(request);
        var result = new CompletableFuture<CreateUserResponse>();
        call.addListener(() -> {
          try {
            result.complete(call.get());
          } catch (Exception e) {
            result.completeExceptionally(e.getCause() != null ? e.getCause() : e);
          }
        }, Runnable::run);
        creates.add(result);
      }
      // Every pooled connection is stuck on the lock, the other calls wait for one: all are in the server.
      UsersServiceEndToEndTest.await(() -> waitingStatements(lock) >= POOL_SIZE);
      assertThat(creates).noneMatch(CompletableFuture::isDone);

      service.sigterm();
      UsersServiceEndToEndTest.await(() -> service.output().stream().anyMatch(line -> line.contains("shutting down")));
    }
    long released = System.nanoTime();

    var acknowledged = new HashSet<String>();
    var failures = new ArrayList<String>();
    for (var create : creates) {
      try {
        acknowledged.add(create.get(1, TimeUnit.MINUTES).getUser().getId());
      } catch (ExecutionException e) {
        failures.add(Status.fromThrowable(e.getCause()).toString());
      }
    }
    var listed = listing.readToEnd();
    boolean exited = service.awaitExit(Duration.ofMinutes(1));
    long exitMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - released);
    var stored = storedUserIds();
    var lost = new HashSet<>(acknowledged);
    lost.removeAll(stored);

    System.out.printf("SIGTERM with %d calls in flight and a listing of %d users at its first message: "
            + "%d acknowledged, %d failed, %d lost; listing %s with %d users; process exited %d ms after the "
            + "lock was released%n",
        CALLS_IN_FLIGHT, LISTED_USERS, acknowledged.size(), failures.size(), lost.size(),
        listed.status().getCode(), listed.userIds().size(), exitMillis);
    assertThat(failures).as("failed calls").isEmpty();
    assertThat(acknowledged).hasSize(CALLS_IN_FLIGHT);
    assertThat(lost).as("acknowledged but not stored").isEmpty();
    assertThat(listed.status().isOk()).as(listed.status().toString()).isTrue();
    // The in-flight users may join the listing's tail; every imported user is in it exactly once.
    var imported = new HashSet<>(stored);
    imported.removeAll(acknowledged);
    assertThat(listed.userIds()).doesNotHaveDuplicates().containsAll(imported);
    assertThat(exited).as("the service exits by itself once the calls are done").isTrue();
  }

  private ManagedChannel channel(int port) {
    return keep(Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create()).build());
  }

  private ManagedChannel keep(ManagedChannel channel) {
    channels.add(channel);
    return channel;
  }

  private static int waitingStatements(TableLock lock) {
    try {
      return lock.waitingStatements();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Read straight from the database, after the service has gone. */
  private Set<String> storedUserIds() throws SQLException {
    var ids = new HashSet<String>();
    try (var connection = DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
        var statement = connection.createStatement();
        var rows = statement.executeQuery("SELECT id FROM \"" + schema + "\".users")) {
      while (rows.next()) {
        ids.add(rows.getString(1));
      }
    }
    return ids;
  }
}
