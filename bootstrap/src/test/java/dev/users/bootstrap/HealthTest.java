package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.users.adapter.persistence.memory.InMemoryUserRepository;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The health service follows storage: a load balancer stops routing while the database is away. */
class HealthTest {

  private final AtomicBoolean storageAnswers = new AtomicBoolean(true);
  private UsersServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() {
    var storage = new Storage(new InMemoryUserRepository(), storageAnswers::get, () -> {}, "switchable");
    server = UsersServer.start(Config.from(Map.of("USERS_GRPC_PORT", "0", "USERS_STORAGE", "memory")),
        storage, Duration.ofMillis(50));
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
        .build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.stop();
  }

  @Test
  void turnsNotServingWhileStorageDoesNotAnswerAndServingWhenItIsBack() throws Exception {
    assertThat(statuses()).containsOnly(ServingStatus.SERVING);

    storageAnswers.set(false);
    UsersServiceEndToEndTest.await(() -> statuses().equals(List.of(ServingStatus.NOT_SERVING, ServingStatus.NOT_SERVING)));

    storageAnswers.set(true);
    UsersServiceEndToEndTest.await(() -> statuses().equals(List.of(ServingStatus.SERVING, ServingStatus.SERVING)));
  }

  /** The overall status and the user service's. */
  private List<ServingStatus> statuses() {
    var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
    return List.of(
        health.check(HealthCheckRequest.getDefaultInstance()).getStatus(),
        health.check(HealthCheckRequest.newBuilder().setService("users.v1.UserService").build()).getStatus());
  }
}
