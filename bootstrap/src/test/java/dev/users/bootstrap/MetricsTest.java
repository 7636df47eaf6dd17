package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.users.adapter.persistence.PostgresTestDatabase;
import dev.users.adapter.persistence.TableLock;
import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.DeleteUserRequest;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What Prometheus scrapes from USERS_METRICS_PORT after real calls over a real socket. */
class MetricsTest {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private int metricsPort;
  private UsersServer server;
  private ManagedChannel channel;

  private String schema;

  private void start(Map<String, String> settings) throws IOException {
    try (var socket = new ServerSocket(0)) {
      metricsPort = socket.getLocalPort();
    }
    var env = new HashMap<>(settings);
    env.put("USERS_GRPC_PORT", "0");
    env.put("USERS_METRICS_PORT", Integer.toString(metricsPort));
    server = UsersServer.start(Config.from(env));
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
        .build();
  }

  private void startInMemory() throws IOException {
    start(Map.of("USERS_STORAGE", "memory"));
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.stop();
    }
    if (schema != null) {
      PostgresTestDatabase.get().dropSchema(schema);
    }
  }

  @Test
  void callsAreCountedAndTimedByMethodAndStatusCode() throws Exception {
    startInMemory();
    var users = UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
    var created = users.createUser(CreateUserRequest.newBuilder()
        .setEmail("metrics@example.com").setDisplayName("Metrics").build()).getUser();
    users.getUser(GetUserRequest.newBuilder().setId(created.getId()).build());
    assertThatThrownBy(() -> users.getUser(GetUserRequest.newBuilder().setId(UUID.randomUUID().toString()).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));

    var scraped = scrape();

    assertThat(scraped).anyMatch(line -> line.startsWith("grpc_server_call_started_total{")
        && line.contains("grpc_method=\"users.v1.UserService/GetUser\"") && line.endsWith(" 2.0"));
    assertThat(scraped).anyMatch(line -> line.startsWith("grpc_server_call_duration_seconds_count{")
        && line.contains("grpc_method=\"users.v1.UserService/GetUser\"")
        && line.contains("grpc_status=\"OK\"") && line.endsWith(" 1"));
    assertThat(scraped).anyMatch(line -> line.startsWith("grpc_server_call_duration_seconds_count{")
        && line.contains("grpc_method=\"users.v1.UserService/GetUser\"")
        && line.contains("grpc_status=\"NOT_FOUND\"") && line.endsWith(" 1"));
    assertThat(scraped).anyMatch(line -> line.startsWith("grpc_server_call_duration_seconds_count{")
        && line.contains("grpc_method=\"users.v1.UserService/CreateUser\"")
        && line.contains("grpc_status=\"OK\"") && line.endsWith(" 1"));
    assertThat(scraped).anyMatch(line -> line.startsWith("grpc_server_call_rcvd_total_compressed_message_size_bytes_count{")
        && line.contains("grpc_method=\"users.v1.UserService/GetUser\""));
    assertThat(scraped).anyMatch(line -> line.startsWith("grpc_server_call_sent_total_compressed_message_size_bytes_count{")
        && line.contains("grpc_method=\"users.v1.UserService/GetUser\""));
  }

  @Test
  void usersRegisteredImportedRejectedByReasonAndDeletedAreCounted() throws Exception {
    startInMemory();
    var users = UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
    var create = CreateUserRequest.newBuilder().setEmail("counted@example.com").setDisplayName("Counted").build();
    var created = users.createUser(create).getUser();
    assertThatThrownBy(() -> users.createUser(create)).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS));
    assertThatThrownBy(() -> users.createUser(CreateUserRequest.newBuilder().setEmail("not an email").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    var imported = UsersServiceEndToEndTest.importUsers(channel, List.of(
        ImportUsersRequest.newBuilder().setEmail("first@example.com").setDisplayName("First").build(),
        ImportUsersRequest.newBuilder().setEmail("second@example.com").setDisplayName("Second").build(),
        ImportUsersRequest.newBuilder().setEmail("counted@example.com").setDisplayName("Taken").build(),
        ImportUsersRequest.newBuilder().setEmail("").setDisplayName("No email").build()));
    users.deleteUser(DeleteUserRequest.newBuilder().setId(created.getId()).build());
    assertThatThrownBy(() -> users.deleteUser(DeleteUserRequest.newBuilder().setId(created.getId()).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));

    var scraped = scrape();

    assertThat(imported.getCreatedCount()).isEqualTo(2);
    assertThat(scraped).anyMatch(line -> line.startsWith("users_registered_total{") && line.endsWith(" 3.0"));
    assertThat(scraped).anyMatch(line -> line.startsWith("users_imported_total{") && line.endsWith(" 2.0"));
    assertThat(scraped).anyMatch(line -> line.startsWith("users_rejected_total{")
        && line.contains("reason=\"EMAIL_TAKEN\"") && line.endsWith(" 2.0"));
    assertThat(scraped).anyMatch(line -> line.startsWith("users_rejected_total{")
        && line.contains("reason=\"INVALID_ARGUMENT\"") && line.endsWith(" 2.0"));
    assertThat(scraped).anyMatch(line -> line.startsWith("users_deleted_total{") && line.endsWith(" 1.0"));
    assertThat(scraped).noneMatch(line -> line.startsWith("storage_unavailable_total{"));
  }

  @Test
  void theJvmsMemoryGarbageCollectionAndThreadsAreScraped() throws Exception {
    startInMemory();
    // GC durations come from the JVM's notifications after each collection, so make sure there was one.
    System.gc();
    UsersServiceEndToEndTest.await(() ->
        scrapeQuietly().stream().anyMatch(line -> line.startsWith("jvm_gc_duration_seconds_count{")));
    var scraped = scrape();

    assertThat(scraped).anyMatch(line -> line.startsWith("jvm_memory_used_bytes{") && line.contains("jvm_memory_type=\"heap\""));
    assertThat(scraped).anyMatch(line -> line.startsWith("jvm_gc_duration_seconds_count{") && line.contains("jvm_gc_name="));
    assertThat(scraped).anyMatch(line -> line.startsWith("jvm_thread_count{") && line.contains("jvm_thread_state="));
  }

  @Test
  void stopClosesTheMetricsPort() throws Exception {
    startInMemory();
    scrape();

    server.stop();

    assertThatThrownBy(this::scrape).isInstanceOf(IOException.class);
  }

  private PostgresTestDatabase startPostgres(Map<String, String> settings) throws IOException {
    var database = PostgresTestDatabase.get();
    schema = database.newSchemaName();
    var env = new HashMap<>(settings);
    env.putAll(Map.of(
        "USERS_STORAGE", "postgres",
        "USERS_DB_URL", database.jdbcUrl(),
        "USERS_DB_USER", database.user(),
        "USERS_DB_PASSWORD", database.password(),
        "USERS_DB_SCHEMA", schema));
    start(env);
    return database;
  }

  @Test
  void thePoolReportsItsConnectionsWaitersAndTimeouts() throws Exception {
    var database = startPostgres(Map.of("USERS_DB_POOL_SIZE", "1", "USERS_DB_CONNECTION_TIMEOUT", "250ms"));
    var users = UserServiceGrpc.newBlockingStub(channel);
    var id = users.withDeadlineAfter(5, TimeUnit.SECONDS).createUser(CreateUserRequest.newBuilder()
        .setEmail("pool@example.com").setDisplayName("Pool").build()).getUser().getId();
    var get = GetUserRequest.newBuilder().setId(id).build();

    Status.Code second;
    try (var lock = TableLock.ofReadsAndWrites(database, schema);
        var holder = Executors.newVirtualThreadPerTaskExecutor()) {
      // The first call takes the only connection and waits on the lock; the second, a delete, waits
      // for a connection of its own. (A second lookup would queue behind the first one's batch.)
      var first = holder.submit(() -> users.withDeadlineAfter(2, TimeUnit.SECONDS).getUser(get));
      UsersServiceEndToEndTest.await(() -> scrapeQuietly().stream().anyMatch(line ->
          line.startsWith("db_client_connection_count{") && line.contains("db_client_connection_state=\"used\"")
              && line.endsWith(" 1.0")));
      second = Status.fromThrowable(catchThrowable(() -> users.withDeadlineAfter(5, TimeUnit.SECONDS)
          .deleteUser(DeleteUserRequest.newBuilder().setId(id).build()))).getCode();
      lock.release();
      first.get(5, TimeUnit.SECONDS);
    }
    // HikariCP refreshes its pool statistics at most once a second.
    UsersServiceEndToEndTest.await(() -> scrapeQuietly().stream().anyMatch(line ->
        line.startsWith("db_client_connection_count{") && line.contains("db_client_connection_state=\"idle\"")
            && line.endsWith(" 1.0")));
    var scraped = scrape();

    assertThat(second).as("the call that found no connection").isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(scraped).anyMatch(line -> line.startsWith("db_client_connection_timeouts_total{")
        && line.contains("db_client_connection_pool_name=\"users-service\"") && line.endsWith(" 1.0"));
    assertThat(scraped).anyMatch(line -> line.startsWith("db_client_connection_count{")
        && line.contains("db_client_connection_state=\"used\"") && line.endsWith(" 0.0"));
    assertThat(scraped).anyMatch(line -> line.startsWith("db_client_connection_pending_requests{")
        && line.endsWith(" 0.0"));
    assertThat(scraped).anyMatch(line -> line.startsWith("db_client_connection_max{") && line.endsWith(" 1.0"));
    assertThat(scraped).as("the call that found no connection").anyMatch(line ->
        line.startsWith("storage_unavailable_total{") && line.endsWith(" 1.0"));
  }

  @Test
  void aCallRefusedOverTheInFlightLimitIsNotCountedAsStorageUnavailable() throws Exception {
    var database = startPostgres(Map.of("USERS_DB_POOL_SIZE", "2", "USERS_MAX_UNARY_CALLS_IN_FLIGHT", "1"));
    var users = UserServiceGrpc.newBlockingStub(channel);
    var id = users.withDeadlineAfter(5, TimeUnit.SECONDS).createUser(CreateUserRequest.newBuilder()
        .setEmail("limit@example.com").setDisplayName("Limit").build()).getUser().getId();
    var get = GetUserRequest.newBuilder().setId(id).build();

    Status.Code second;
    try (var lock = TableLock.ofReadsAndWrites(database, schema);
        var holder = Executors.newVirtualThreadPerTaskExecutor()) {
      // The first call holds the only place in flight, waiting on the lock; the second finds none.
      var first = holder.submit(() -> users.withDeadlineAfter(5, TimeUnit.SECONDS).getUser(get));
      UsersServiceEndToEndTest.await(() -> scrapeQuietly().stream().anyMatch(line ->
          line.startsWith("db_client_connection_count{") && line.contains("db_client_connection_state=\"used\"")
              && line.endsWith(" 1.0")));
      second = Status.fromThrowable(catchThrowable(() -> users.withDeadlineAfter(5, TimeUnit.SECONDS).getUser(get)))
          .getCode();
      lock.release();
      first.get(5, TimeUnit.SECONDS);
    }
    var scraped = scrape();

    assertThat(second).as("the call over the limit").isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(scraped).anyMatch(line -> line.startsWith("grpc_server_call_duration_seconds_count{")
        && line.contains("grpc_method=\"users.v1.UserService/GetUser\"")
        && line.contains("grpc_status=\"UNAVAILABLE\"") && line.endsWith(" 1"));
    assertThat(scraped).noneMatch(line -> line.startsWith("storage_unavailable_total{"));
  }

  /** For polling: prints nothing. */
  private List<String> scrapeQuietly() {
    try {
      return fetch();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    }
  }

  private List<String> scrape() throws IOException, InterruptedException {
    var lines = fetch();
    lines.stream()
        .filter(line -> line.startsWith("grpc_server_call_") && !line.contains("_bucket{")
            || line.startsWith("db_client_connection_") || line.startsWith("jvm_memory_used_bytes")
            || line.startsWith("jvm_gc_duration_seconds_count") || line.startsWith("jvm_thread_count")
            || line.startsWith("users_") || line.startsWith("storage_"))
        .forEach(line -> System.out.println("scraped: " + line));
    return lines;
  }

  /** The samples of one scrape, without the # HELP and # TYPE lines. */
  private List<String> fetch() throws IOException, InterruptedException {
    var response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body().lines().filter(line -> !line.startsWith("#")).toList();
  }
}
