package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.users.adapter.grpc.RawCall;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.LinkedBlockingQueue;
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

  @ParameterizedTest
  @ValueSource(ints = {9 * 1024, 12 * 1024, 40 * 1024})
  void oversizedMetadataFailsItsOwnCallOnlyWithResourceExhausted(int headerBytes) throws Exception {
    var watch = new LinkedBlockingQueue<Object>();
    HealthGrpc.newStub(channel).watch(HealthCheckRequest.getDefaultInstance(), new StreamObserver<>() {
      @Override
      public void onNext(HealthCheckResponse response) {
        watch.add(response.getStatus());
      }

      @Override
      public void onError(Throwable error) {
        watch.add(Status.fromThrowable(error).getCode());
      }

      @Override
      public void onCompleted() {
        watch.add("completed");
      }
    });
    assertThat(watch.poll(10, TimeUnit.SECONDS)).as("the watch is open").isEqualTo(ServingStatus.SERVING);
    var headers = new Metadata();
    headers.put(Metadata.Key.of("x-padding", Metadata.ASCII_STRING_MARSHALLER), "p".repeat(headerBytes));

    var failure = catchThrowableOfType(StatusRuntimeException.class, () -> UserServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .getUser(GetUserRequest.newBuilder().setId("0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8b").build()));

    System.out.printf("metadata of %d bytes: %s%n", headerBytes, failure == null ? "OK" : failure.getStatus());
    assertThat(failure).isNotNull();
    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(failure.getStatus().getDescription()).contains("metadata", "8192");
    var check = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance());
    assertThat(check.getStatus()).isEqualTo(ServingStatus.SERVING);
    assertThat(watch.poll()).as("what the open watch received meanwhile").isNull();
  }
}
