package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP/2 connection limits and the ImportUsers item cap of the assembled server, each seen by
 * a client over a real socket.
 */
class ConnectionHardeningTest {

  private UsersServer server;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.stop();
    }
  }

  @Test
  void aConnectionThatResetsStreamsFasterThanAllowedIsClosedWithEnhanceYourCalm() throws Exception {
    start(Map.of("USERS_MAX_RST_FRAMES_PER_WINDOW", "20", "USERS_RST_FRAMES_WINDOW", "60s"));
    var bystander = openImport();

    // Each call is opened (HEADERS) and cancelled (RST_STREAM) at once, the pattern of rapid reset.
    for (int i = 0; i < 50 && !bystander.isDone(); i++) {
      var call = channel.newCall(UserServiceGrpc.getImportUsersMethod(), CallOptions.DEFAULT);
      call.start(new ClientCall.Listener<>() {}, new Metadata());
      call.cancel("rapid reset", null);
    }

    var status = bystander.get(10, TimeUnit.SECONDS);
    System.out.println("a bystander call on a connection closed for rapid reset ended with " + status);
    // grpc-java clients report the GOAWAY's HTTP/2 code ENHANCE_YOUR_CALM as RESOURCE_EXHAUSTED.
    assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(status.getDescription()).contains("too_many_rststreams");
  }

  @Test
  void aConnectionThatResetsFewerStreamsThanAllowedStaysOpen() throws Exception {
    start(Map.of("USERS_MAX_RST_FRAMES_PER_WINDOW", "200", "USERS_RST_FRAMES_WINDOW", "60s"));
    var bystander = openImport();

    for (int i = 0; i < 50; i++) {
      var call = channel.newCall(UserServiceGrpc.getImportUsersMethod(), CallOptions.DEFAULT);
      call.start(new ClientCall.Listener<>() {}, new Metadata());
      call.cancel("an ordinary cancellation", null);
    }

    assertThat(checkHealth()).isTrue();
    assertThat(bystander).isNotDone();
  }

  @Test
  void anIdleConnectionIsClosedByTheServer() throws Exception {
    start(Map.of("USERS_MAX_CONNECTION_IDLE", "1s"));
    assertThat(checkHealth()).isTrue();
    assertThat(channel.getState(false)).isEqualTo(ConnectivityState.READY);
    long start = System.nanoTime();

    var left = new CompletableFuture<ConnectivityState>();
    channel.notifyWhenStateChanged(ConnectivityState.READY, () -> left.complete(channel.getState(false)));

    // The server's GOAWAY sends the channel back to IDLE: it reconnects only for the next call.
    assertThat(left.get(10, TimeUnit.SECONDS)).isEqualTo(ConnectivityState.IDLE);
    System.out.printf("an idle connection with a 1 s limit was closed after %d ms%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    assertThat(checkHealth()).isTrue();
  }

  @Test
  void aConnectionThatNeverStartsItsTlsHandshakeIsClosedAfterTheHandshakeTimeout(@TempDir Path dir)
      throws Exception {
    var certificate = dir.resolve("server.pem");
    var key = dir.resolve("server.key");
    TestPki.Authority.named("CA").server("localhost").writeTo(certificate, key);
    start(Map.of(
        "USERS_TLS_CERT_FILE", certificate.toString(),
        "USERS_TLS_KEY_FILE", key.toString(),
        "USERS_HANDSHAKE_TIMEOUT", "500ms"));

    assertThat(closesASilentConnection()).as("the server closed the silent connection").isTrue();
  }

  @Test
  void aPlaintextConnectionThatNeverSendsTheHttp2PrefaceIsClosedAfterTheHandshakeTimeout() throws Exception {
    start(Map.of("USERS_HANDSHAKE_TIMEOUT", "500ms"));

    assertThat(closesASilentConnection()).as("the server closed the silent connection").isTrue();
  }

  /**
   * Whether the server closes a connection on which the client sends nothing within 5 s: ten
   * times the handshake timeout of these tests, and half Netty's own TLS handshake timeout, so
   * that only the setting can close it in time. What the server sends first (its HTTP/2 SETTINGS
   * in plaintext) is read and ignored.
   */
  private boolean closesASilentConnection() throws IOException {
    try (var silent = new Socket("127.0.0.1", server.port())) {
      long start = System.nanoTime();
      long giveUp = start + TimeUnit.SECONDS.toNanos(5);
      var in = silent.getInputStream();
      var buffer = new byte[1_024];
      boolean closed = false;
      while (!closed && System.nanoTime() < giveUp) {
        silent.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(giveUp - System.nanoTime())));
        try {
          closed = in.read(buffer) == -1;
        } catch (SocketTimeoutException silence) {
          break;
        } catch (SocketException reset) {
          closed = true;
        }
      }
      System.out.printf("a silent connection with a 500 ms handshake timeout: closed %s after %d ms%n",
          closed, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
      return closed;
    }
  }

  @Test
  void anImportOverTheItemCapEndsResourceExhaustedWithItsResultWithinTheClientsTrailerLimit() throws Exception {
    start(Map.of("USERS_IMPORT_MAX_ITEMS", "1000"));
    var response = new CompletableFuture<ImportUsersResponse>();
    var requests = UserServiceGrpc.newStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
        .importUsers(new StreamObserver<>() {
          @Override
          public void onNext(ImportUsersResponse value) {
            response.complete(value);
          }

          @Override
          public void onError(Throwable error) {
            response.completeExceptionally(error);
          }

          @Override
          public void onCompleted() {}
        });
    // Every item rejected, each with a long invalid email: as large a result as a call can have.
    for (int i = 0; i < 1_001; i++) {
      requests.onNext(ImportUsersRequest.newBuilder()
          .setEmail("x".repeat(240) + i).setDisplayName("Rejected " + i).build());
    }
    requests.onCompleted();

    var failure = catchThrowableOfType(ExecutionException.class, () -> response.get(20, TimeUnit.SECONDS));
    var status = StatusProto.fromThrowable(failure.getCause());
    assertThat(status).as("a status with details reached the client").isNotNull();
    assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED.value());
    var processed = status.getDetailsList().stream()
        .filter(detail -> detail.is(ImportUsersResponse.class))
        .findFirst().orElseThrow().unpack(ImportUsersResponse.class);
    assertThat(processed.getRejectedCount()).isEqualTo(1_000);
    assertThat(processed.getFailuresList()).isNotEmpty();
  }

  private void start(Map<String, String> settings) {
    var env = new HashMap<>(settings);
    env.put("USERS_STORAGE", "memory");
    env.put("USERS_GRPC_PORT", "0");
    env.put("USERS_SHUTDOWN_GRACE", "1s");
    server = UsersServer.start(Config.from(env));
    if (!env.containsKey("USERS_TLS_CERT_FILE")) {
      channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
          .build();
    }
  }

  /** An ImportUsers call that stays open, sending nothing, until the connection fails it. */
  private CompletableFuture<Status> openImport() {
    var closed = new CompletableFuture<Status>();
    ClientCall<ImportUsersRequest, ImportUsersResponse> call =
        channel.newCall(UserServiceGrpc.getImportUsersMethod(), CallOptions.DEFAULT);
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    assertThat(checkHealth()).as("the connection is up").isTrue();
    return closed;
  }

  private boolean checkHealth() {
    return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance()) != null;
  }
}
