package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.RetryInfo;
import dev.users.adapter.persistence.PostgresTestDatabase;
import dev.users.adapter.persistence.TableLock;
import dev.users.adapter.persistence.TcpProxy;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.GetUserResponse;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The service on PostgreSQL behind a {@link TcpProxy} that cuts, partitions and restores the
 * database: readiness follows the database within seconds, liveness does not, calls fail fast with
 * UNAVAILABLE, and the service recovers by itself. Each test prints the figure it measures.
 */
class DatabaseOutageTest {

  private static final String READINESS = "users.v1.UserService";
  private static final String LIVENESS = "";

  private PostgresTestDatabase database;
  private String schema;
  private TcpProxy proxy;
  private UsersServer server;
  private ManagedChannel channel;

  @BeforeEach
  void proxyTheDatabase() {
    database = PostgresTestDatabase.get();
    schema = database.newSchemaName();
    proxy = TcpProxy.inFrontOf(database);
  }

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (proxy != null) {
      // Cut first: closing the pool must not wait on a silent database.
      proxy.close();
    }
    if (server != null) {
      server.stop();
    }
    if (schema != null) {
      database.dropSchema(schema);
    }
  }

  @Test
  void aCutDatabaseTurnsReadinessNotServingWithinSecondsWhileLivenessStaysServing() throws Exception {
    start(Map.of());
    assertThat(getUnknownUser()).isEqualTo(Status.Code.NOT_FOUND);

    long cut = System.nanoTime();
    proxy.cut();
    var notReady = await(() -> status(READINESS) == ServingStatus.NOT_SERVING, cut);
    System.out.printf("database cut: readiness NOT_SERVING after %d ms%n", notReady.toMillis());
    assertThat(notReady).isLessThan(Duration.ofSeconds(4));
    assertThat(status(LIVENESS)).isEqualTo(ServingStatus.SERVING);

    assertAnsweredUnavailableWithRetryInfo("database cut", Duration.ofSeconds(3));
  }

  @Test
  void aPartitionedDatabaseFailsTheFirstCallUnavailableInAboutTheConnectionTimeout() throws Exception {
    start(Map.of());
    assertThat(getUnknownUser()).isEqualTo(Status.Code.NOT_FOUND);

    long partitioned = System.nanoTime();
    proxy.partition();
    // The pool's socket timeout is 10 s here: only detecting the silence ends this call sooner.
    assertAnsweredUnavailableWithRetryInfo("database partitioned, first call", Duration.ofMillis(3_500));

    var notReady = await(() -> status(READINESS) == ServingStatus.NOT_SERVING, partitioned);
    System.out.printf("database partitioned: readiness NOT_SERVING after %d ms%n", notReady.toMillis());
    assertThat(notReady).isLessThan(Duration.ofSeconds(4));
    assertThat(status(LIVENESS)).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void servesAgainWithoutARestartOnceTheDatabaseIsBack() throws Exception {
    start(Map.of());
    proxy.cut();
    await(() -> status(READINESS) == ServingStatus.NOT_SERVING, System.nanoTime());

    long restored = System.nanoTime();
    proxy.restore();
    var ready = await(() -> status(READINESS) == ServingStatus.SERVING, restored);
    var served = await(() -> getUnknownUser() == Status.Code.NOT_FOUND, restored);
    System.out.printf("database restored: readiness SERVING after %d ms, first GetUser answered after %d ms%n",
        ready.toMillis(), served.toMillis());
    assertThat(ready).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void aPoolWithEveryConnectionBusyIsLoadNotAnOutage() throws Exception {
    // Through the same wiring as start(config), with readiness re-read every 100 ms, so that
    // the test sees many checks while the pool is busy.
    var config = config(Map.of("USERS_DB_STATEMENT_TIMEOUT", "30s"));
    server = UsersServer.start(config, Storage.open(config), Duration.ofMillis(100));
    connectChannel();
    assertThat(getUnknownUser()).isEqualTo(Status.Code.NOT_FOUND);

    var answers = new ArrayList<CompletableFuture<Status.Code>>();
    var statuses = new ArrayList<ServingStatus>();
    try (var locker = TableLock.ofReadsAndWrites(database, schema)) {
      var users = UserServiceGrpc.newStub(channel);
      for (int i = 0; i < 200; i++) {
        var answer = new CompletableFuture<Status.Code>();
        users.withDeadlineAfter(20, TimeUnit.SECONDS).getUser(unknownUser(), completing(answer));
        answers.add(answer);
      }
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
      while (System.nanoTime() < until) {
        statuses.add(status(READINESS));
        Thread.sleep(50);
      }
      locker.release();
    }
    CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

    long notServing = statuses.stream().filter(status -> status != ServingStatus.SERVING).count();
    long unavailable = answers.stream().filter(answer -> answer.join() == Status.Code.UNAVAILABLE).count();
    System.out.printf("pool busy: readiness NOT_SERVING in %d of %d checks; %d of 200 GetUser shed UNAVAILABLE%n",
        notServing, statuses.size(), unavailable);
    assertThat(statuses).hasSizeGreaterThan(10).containsOnly(ServingStatus.SERVING);
  }

  private void start(Map<String, String> settings) {
    server = UsersServer.start(config(settings));
    connectChannel();
  }

  private Config config(Map<String, String> settings) {
    var env = new HashMap<>(Map.of(
        "USERS_GRPC_PORT", "0",
        "USERS_STORAGE", "postgres",
        "USERS_DB_URL", proxy.jdbcUrl(),
        "USERS_DB_USER", database.user(),
        "USERS_DB_PASSWORD", database.password(),
        "USERS_DB_SCHEMA", schema,
        "USERS_DB_CONNECTION_TIMEOUT", "1s",
        "USERS_SHUTDOWN_GRACE", "2s"));
    env.putAll(settings);
    return Config.from(env);
  }

  private void connectChannel() {
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
        .build();
  }

  private void assertAnsweredUnavailableWithRetryInfo(String situation, Duration within) {
    var users = UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    long started = System.nanoTime();
    StatusRuntimeException failure = null;
    try {
      users.getUser(unknownUser());
    } catch (StatusRuntimeException e) {
      failure = e;
    }
    var took = Duration.ofNanos(System.nanoTime() - started);
    System.out.printf("%s: GetUser answered %s after %d ms%n", situation,
        failure == null ? "OK" : failure.getStatus().getCode(), took.toMillis());
    assertThat(failure).isNotNull();
    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(StatusProto.fromThrowable(failure).getDetailsList())
        .anyMatch(detail -> detail.is(RetryInfo.class));
    assertThat(took).isLessThan(within);
  }

  private Status.Code getUnknownUser() {
    try {
      UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).getUser(unknownUser());
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  private ServingStatus status(String service) {
    return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(service).build())
        .getStatus();
  }

  private static GetUserRequest unknownUser() {
    return GetUserRequest.newBuilder().setId(UUID.randomUUID().toString()).build();
  }

  /** How long after {@code sinceNanos} the condition held; fails after 15 s. */
  private static Duration await(BooleanSupplier condition, long sinceNanos) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 15 s");
      }
      Thread.sleep(20);
    }
    return Duration.ofNanos(System.nanoTime() - sinceNanos);
  }

  private static StreamObserver<GetUserResponse> completing(CompletableFuture<Status.Code> answer) {
    return new StreamObserver<>() {
      @Override
      public void onNext(GetUserResponse response) {}

      @Override
      public void onError(Throwable failure) {
        answer.complete(Status.fromThrowable(failure).getCode());
      }

      @Override
      public void onCompleted() {
        answer.complete(Status.Code.OK);
      }
    };
  }
}
