package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.users.adapter.persistence.memory.InMemoryUserRepository;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.UserServiceGrpc;
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
import io.opentelemetry.api.OpenTelemetry;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Liveness ({@code ""}) says the process serves; readiness ({@code users.v1.UserService}) says its
 * storage answers. A load balancer routes by readiness; an orchestrator restarts by liveness.
 */
class HealthTest {

  private static final String READINESS = "users.v1.UserService";
  private static final String LIVENESS = "";

  private final AtomicBoolean storageAnswers = new AtomicBoolean(true);
  private UsersServer server;
  private ManagedChannel channel;

  private void start(Map<String, String> settings) {
    var env = new HashMap<>(Map.of("USERS_GRPC_PORT", "0", "USERS_STORAGE", "memory"));
    env.putAll(settings);
    var storage = new Storage(new InMemoryUserRepository(), storageAnswers::get, () -> {}, "switchable");
    server = UsersServer.start(Config.from(env), storage, Duration.ofMillis(50));
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
        .build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    if (server != null) {
      server.stop();
    }
  }

  @Test
  void readinessFollowsStorageWhileLivenessStaysServing() throws Exception {
    start(Map.of());
    assertThat(status(LIVENESS)).isEqualTo(ServingStatus.SERVING);
    assertThat(status(READINESS)).isEqualTo(ServingStatus.SERVING);

    storageAnswers.set(false);
    UsersServiceEndToEndTest.await(() -> status(READINESS) == ServingStatus.NOT_SERVING);
    assertThat(status(LIVENESS)).as("a database outage must not get the process restarted")
        .isEqualTo(ServingStatus.SERVING);

    storageAnswers.set(true);
    UsersServiceEndToEndTest.await(() -> status(READINESS) == ServingStatus.SERVING);
  }

  @Test
  void stopEndsOpenHealthWatchesInsteadOfWaitingTheWholeGracePeriod() throws Exception {
    start(Map.of("USERS_SHUTDOWN_GRACE", "5s"));
    var watch = new WatchObserver();
    HealthGrpc.newStub(channel).watch(HealthCheckRequest.newBuilder().setService(LIVENESS).build(), watch);
    watch.firstStatus.get(5, TimeUnit.SECONDS);

    long started = System.nanoTime();
    server.stop();
    var took = Duration.ofNanos(System.nanoTime() - started);

    System.out.printf("stop() with an open health Watch returned after %d ms (grace 5000 ms)%n", took.toMillis());
    assertThat(took).isLessThan(Duration.ofMillis(2_500));
    assertThat(watch.end.get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void duringTheDrainDelayReadinessIsNotServingButCallsAreStillServed() throws Exception {
    start(Map.of("USERS_SHUTDOWN_DRAIN", "1500ms"));

    long started = System.nanoTime();
    var stopping = CompletableFuture.runAsync(server::stop);
    UsersServiceEndToEndTest.await(() -> status(READINESS) == ServingStatus.NOT_SERVING);

    assertThat(status(LIVENESS)).isEqualTo(ServingStatus.SERVING);
    var lookup = UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
    var unknown = GetUserRequest.newBuilder().setId(UUID.randomUUID().toString()).build();
    assertThat(codeOf(() -> lookup.getUser(unknown))).as("a call during the drain is served, not refused")
        .isEqualTo(Status.Code.NOT_FOUND);

    stopping.get(10, TimeUnit.SECONDS);
    var took = Duration.ofNanos(System.nanoTime() - started);
    System.out.printf("stop() with a 1500 ms drain returned after %d ms%n", took.toMillis());
    assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(1_500));
  }

  @Test
  void whileStorageOpensTheProcessIsLiveAndTheUsersApiNotServingAndUnavailable() throws Exception {
    int port = freePort();
    var opening = new CompletableFuture<Storage>();
    var starting = startOpening(port, opening);

    assertThat(status(READINESS)).isEqualTo(ServingStatus.NOT_SERVING);
    var lookup = UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
    var unknown = GetUserRequest.newBuilder().setId(UUID.randomUUID().toString()).build();
    var refused = org.assertj.core.api.Assertions.catchThrowableOfType(StatusRuntimeException.class,
        () -> lookup.getUser(unknown));
    assertThat(refused.getStatus().getCode()).as("retryable, unlike UNIMPLEMENTED").isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(refused.getStatus().getDescription()).contains("starting");
    assertThat(starting).isNotDone();

    opening.complete(new Storage(new InMemoryUserRepository(), () -> true, () -> {}, "opened late"));
    server = starting.get(10, TimeUnit.SECONDS);
    assertThat(status(READINESS)).isEqualTo(ServingStatus.SERVING);
    assertThat(codeOf(() -> lookup.getUser(unknown))).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void storageThatFailsToOpenStopsStartUpWithItsFailureAndClosesThePort() throws Exception {
    int port = freePort();
    var opening = new CompletableFuture<Storage>();
    var starting = startOpening(port, opening);

    var failure = new IllegalStateException("cannot connect to PostgreSQL");
    opening.completeExceptionally(failure);

    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> starting.get(10, TimeUnit.SECONDS)))
        .hasCause(failure);
    try (var socket = new java.net.Socket()) {
      assertThat(org.assertj.core.api.Assertions.catchThrowable(
          () -> socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1_000)))
          .as("the port is closed again").isInstanceOf(java.net.ConnectException.class);
    }
  }

  /**
   * Starts the server on {@code port} with storage still {@code opening}, connects {@link #channel}
   * and returns once liveness answers SERVING; the server is what the result completes with.
   */
  private CompletableFuture<UsersServer> startOpening(int port, CompletableFuture<Storage> opening) {
    var config = Config.from(Map.of("USERS_GRPC_PORT", Integer.toString(port), "USERS_STORAGE", "memory"));
    var starting = CompletableFuture.supplyAsync(() -> UsersServer.start(config, opening, OpenTelemetry.noop(), s -> {}));
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create()).build();
    var live = HealthGrpc.newBlockingStub(channel).withWaitForReady().withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(LIVENESS).build());
    assertThat(live.getStatus()).isEqualTo(ServingStatus.SERVING);
    return starting;
  }

  private static int freePort() throws java.io.IOException {
    try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private ServingStatus status(String service) {
    return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(service).build())
        .getStatus();
  }

  private static Status.Code codeOf(Runnable call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  private static final class WatchObserver implements StreamObserver<HealthCheckResponse> {

    final CompletableFuture<ServingStatus> firstStatus = new CompletableFuture<>();
    final CompletableFuture<Status> end = new CompletableFuture<>();

    @Override
    public void onNext(HealthCheckResponse response) {
      firstStatus.complete(response.getStatus());
    }

    @Override
    public void onError(Throwable failure) {
      end.complete(Status.fromThrowable(failure));
    }

    @Override
    public void onCompleted() {
      end.complete(Status.OK);
    }
  }
}
