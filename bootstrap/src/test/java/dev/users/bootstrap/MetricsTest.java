package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.GetUserRequest;
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
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What Prometheus scrapes from USERS_METRICS_PORT after real calls over a real socket. */
class MetricsTest {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private int metricsPort;
  private UsersServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws IOException {
    try (var socket = new ServerSocket(0)) {
      metricsPort = socket.getLocalPort();
    }
    server = UsersServer.start(Config.from(Map.of(
        "USERS_STORAGE", "memory",
        "USERS_GRPC_PORT", "0",
        "USERS_METRICS_PORT", Integer.toString(metricsPort))));
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
        .build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.stop();
  }

  @Test
  void callsAreCountedAndTimedByMethodAndStatusCode() throws Exception {
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
  void theJvmsMemoryGarbageCollectionAndThreadsAreScraped() throws Exception {
    // GC durations come from the JVM's notifications after each collection, so make sure there was one.
    System.gc();
    UsersServiceEndToEndTest.await(() -> {
      try {
        return scrape().stream().anyMatch(line -> line.startsWith("jvm_gc_duration_seconds_count{"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    });
    var scraped = scrape();

    assertThat(scraped).anyMatch(line -> line.startsWith("jvm_memory_used_bytes{") && line.contains("jvm_memory_type=\"heap\""));
    assertThat(scraped).anyMatch(line -> line.startsWith("jvm_gc_duration_seconds_count{") && line.contains("jvm_gc_name="));
    assertThat(scraped).anyMatch(line -> line.startsWith("jvm_thread_count{") && line.contains("jvm_thread_state="));
  }

  @Test
  void stopClosesTheMetricsPort() {
    server.stop();

    assertThatThrownBy(this::scrape).isInstanceOf(IOException.class);
  }

  private List<String> scrape() throws IOException, InterruptedException {
    var response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    var lines = response.body().lines().filter(line -> !line.startsWith("#")).toList();
    lines.stream()
        .filter(line -> line.startsWith("grpc_server_call_") && !line.contains("_bucket{")
            || line.startsWith("jvm_memory_used_bytes") || line.startsWith("jvm_gc_") || line.startsWith("jvm_thread_count"))
        .forEach(line -> System.out.println("scraped: " + line));
    return lines;
  }
}
