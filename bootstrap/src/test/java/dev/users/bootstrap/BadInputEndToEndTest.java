package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.users.adapter.grpc.RawCall;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Requests no client should send, over a real socket to the assembled server. */
class BadInputEndToEndTest {

  private static final Metadata.Key<String> REQUEST_ID =
      Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);
  /** Field 1, a string in every method below, holding 0xC3 0x28: not UTF-8. */
  private static final byte[] INVALID_UTF8 = {0x0a, 0x02, (byte) 0xc3, 0x28};

  private UsersServer server;
  private ManagedChannel channel;

  @BeforeEach
  void startServer() {
    server = UsersServer.start(Config.from(Map.of("USERS_STORAGE", "memory", "USERS_GRPC_PORT", "0")));
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create()).build();
  }

  @AfterEach
  void stopServer() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.stop();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "users.v1.UserService/GetUser",
      "grpc.health.v1.Health/Check",
      "grpc.reflection.v1.ServerReflection/ServerReflectionInfo"})
  void anUndecodableRequestToAnyServiceIsInvalidArgumentWithItsRequestId(String method) throws Exception {
    var headers = new Metadata();
    headers.put(REQUEST_ID, "trace-undecodable");

    var outcome = RawCall.send(channel, method, headers, List.of(INVALID_UTF8));

    assertThat(outcome.status().getCode()).as(method).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(outcome.status().getDescription()).contains("invalid UTF-8");
    assertThat(outcome.trailers().get(REQUEST_ID)).isEqualTo("trace-undecodable");
  }
}
