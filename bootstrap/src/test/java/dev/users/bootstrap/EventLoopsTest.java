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
import java.util.ArrayList;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class EventLoopsTest {

  @Test
  void connectionsAreServedOnAsManyEventLoopsAsConfiguredAndStoppingTheServerEndsThem() throws Exception {
    var before = eventLoopThreads();
    var storage = new Storage(new InMemoryUserRepository(), () -> true, () -> {}, "memory");
    var server = UsersServer.start(
        Config.from(Map.of("USERS_GRPC_PORT", "0", "USERS_STORAGE", "memory", "USERS_EVENT_LOOP_THREADS", "2")),
        storage, Duration.ofMillis(50));
    var channels = new ArrayList<ManagedChannel>();
    try {
      for (int i = 0; i < 4; i++) {
        var channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
            .build();
        channels.add(channel);
        assertThat(HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()).getStatus())
            .isEqualTo(ServingStatus.SERVING);
      }

      assertThat(started(before)).as("the server's event loops, four connections later").hasSize(2);
    } finally {
      channels.forEach(ManagedChannel::shutdownNow);
      server.stop();
    }
    UsersServiceEndToEndTest.await(() -> started(before).isEmpty());
  }

  private static Set<Thread> started(Set<Thread> before) {
    var now = eventLoopThreads();
    now.removeAll(before);
    return now;
  }

  private static Set<Thread> eventLoopThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().startsWith("users-event-loop-") && thread.isAlive())
        .collect(Collectors.toSet());
  }
}
