package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.RetryInfo;
import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.GetUserResponse;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientStreamTracer;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code USERS_RATE_LIMIT} through the assembled server over Netty. Nothing authenticates callers
 * yet, so each peer address has its bucket.
 */
class RateLimitEndToEndTest {

  private static final int CALLS_PER_SECOND = 2;
  private static final Metadata.Key<String> RETRY_PUSHBACK_MS =
      Metadata.Key.of("grpc-retry-pushback-ms", Metadata.ASCII_STRING_MARSHALLER);

  private UsersServer server;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private String userId;

  @BeforeEach
  void startServer() {
    server = UsersServer.start(Config.from(Map.of(
        "USERS_STORAGE", "memory",
        "USERS_GRPC_PORT", "0",
        "USERS_RATE_LIMIT", CALLS_PER_SECOND + "/s")));
  }

  @AfterEach
  void stopServer() throws InterruptedException {
    for (var channel : channels) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    server.stop();
  }

  @Test
  void aBurstBeyondTheLimitIsRefusedWithWhenToRetryAndACallAfterThatWaitIsServed() throws Exception {
    var users = users(channelFrom("127.0.0.1"));

    var refused = exhaust(users);

    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    var retryDelay = StatusProto.fromThrowable(refused).getDetailsList().stream()
        .filter(detail -> detail.is(RetryInfo.class))
        .findFirst().orElseThrow()
        .unpack(RetryInfo.class).getRetryDelay();
    long pushbackMs = Long.parseLong(refused.getTrailers().get(RETRY_PUSHBACK_MS));
    System.out.printf("refused after a burst of %d: RetryInfo %d.%09d s, grpc-retry-pushback-ms %d%n",
        CALLS_PER_SECOND, retryDelay.getSeconds(), retryDelay.getNanos(), pushbackMs);
    assertThat(pushbackMs).isBetween(1L, 1_000L / CALLS_PER_SECOND + 1);
    assertThat(retryDelay.getSeconds() * 1_000 + TimeUnit.NANOSECONDS.toMillis(retryDelay.getNanos()))
        .as("RetryInfo and the pushback say the same").isEqualTo(pushbackMs);

    Thread.sleep(pushbackMs);

    assertThat(get(users).getUser().getId()).isEqualTo(userId);
  }

  @Test
  void aGrpcJavaClientWithARetryPolicyWaitsAsThePushbackSaysAndIsServed() {
    // Without the pushback the retry would wait a random part of 20 s, mostly beyond the deadline.
    var retrying = channel(NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", server.port()),
            InsecureChannelCredentials.create())
        .defaultServiceConfig(Map.of("methodConfig", List.of(Map.of(
            "name", List.of(Map.of("service", UserServiceGrpc.SERVICE_NAME)),
            "retryPolicy", Map.of(
                "maxAttempts", 2.0,
                "initialBackoff", "20s",
                "maxBackoff", "20s",
                "backoffMultiplier", 1.0,
                "retryableStatusCodes", List.of("RESOURCE_EXHAUSTED"))))))
        .enableRetry()
        .build());
    // Connected before the burst (health is not limited), so that the call follows it at once.
    HealthGrpc.newBlockingStub(retrying).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance());
    exhaust(users(channelFrom("127.0.0.1")));
    var attempts = new AtomicInteger();
    var countingAttempts = new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return next.newCall(method, options.withStreamTracerFactory(new ClientStreamTracer.Factory() {
          @Override
          public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info, Metadata headers) {
            attempts.incrementAndGet();
            return new ClientStreamTracer() {};
          }
        }));
      }
    };
    long start = System.nanoTime();

    var response = UserServiceGrpc.newBlockingStub(retrying).withInterceptors(countingAttempts)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .getUser(GetUserRequest.newBuilder().setId(userId).build());

    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    System.out.printf("served after %d attempts, %d ms after the call started%n", attempts.get(), elapsedMs);
    assertThat(response.getUser().getId()).isEqualTo(userId);
    assertThat(attempts.get()).as("attempts: refused, then retried").isEqualTo(2);
    assertThat(elapsedMs).isLessThan(5_000);
  }

  @Test
  void anotherPeerAddressHasABucketOfItsOwn() {
    exhaust(users(channelFrom("127.0.0.1")));

    assertThat(get(users(channelFrom("127.0.0.2"))).getUser().getId()).isEqualTo(userId);
  }

  @Test
  void healthChecksAreNotLimited() {
    var channel = channelFrom("127.0.0.1");
    exhaust(users(channel));

    var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    for (int call = 0; call < 5 * CALLS_PER_SECOND; call++) {
      assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(ServingStatus.SERVING);
    }
  }

  /**
   * Calls until one is refused, and returns that refusal. The bucket refills while the calls run,
   * so on a slow machine a few more than the burst may pass.
   */
  private StatusRuntimeException exhaust(UserServiceGrpc.UserServiceBlockingStub users) {
    int served = 0;
    if (userId == null) {
      userId = users.createUser(CreateUserRequest.newBuilder()
          .setEmail("ada@example.org").setDisplayName("Ada").build()).getUser().getId();
      served++;
    }
    for (int call = 0; call < 10 * CALLS_PER_SECOND; call++) {
      try {
        get(users);
        served++;
      } catch (StatusRuntimeException refused) {
        assertThat(served).as("calls served before the refusal").isGreaterThanOrEqualTo(CALLS_PER_SECOND);
        return refused;
      }
    }
    throw new AssertionError("no call refused among " + served);
  }

  private GetUserResponse get(UserServiceGrpc.UserServiceBlockingStub users) {
    return users.getUser(GetUserRequest.newBuilder().setId(userId).build());
  }

  private static UserServiceGrpc.UserServiceBlockingStub users(ManagedChannel channel) {
    return UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  /** A plaintext channel to the server whose connections start from {@code localAddress}. */
  private ManagedChannel channelFrom(String localAddress) {
    return channel(NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", server.port()),
            InsecureChannelCredentials.create())
        .localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
          @Override
          public InetSocketAddress createSocketAddress(SocketAddress remote, Attributes attributes) {
            return new InetSocketAddress(localAddress, 0);
          }
        })
        .build());
  }

  private ManagedChannel channel(ManagedChannel channel) {
    channels.add(channel);
    return channel;
  }
}
