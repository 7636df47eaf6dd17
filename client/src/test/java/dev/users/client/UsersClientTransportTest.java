package dev.users.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What only a real socket shows: a plaintext connection, through the production channel builder
 * (Netty, name resolution, round_robin), on loopback.
 */
class UsersClientTransportTest {

  private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final List<Server> servers = new ArrayList<>();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    servers.forEach(Server::shutdownNow);
  }

  @Test
  void theTokenIsNeverSentOverPlaintextUnlessAllowed() throws IOException {
    var fake = new FakeUserService();
    var port = start(fake);
    try (var client = UsersClient.forTarget("dns:///127.0.0.1:" + port).usePlaintext().bearerToken(() -> "secret").build()) {

      assertThatThrownBy(() -> client.getUser("u1")).isInstanceOf(UsersClientException.Unauthenticated.class)
          .hasMessageContaining("without TLS");
      assertThat(fake.attempts("GetUser")).isZero();
    }
  }

  @Test
  void anAllowedTokenOverPlaintextIsAskedForOnEveryCall() throws IOException {
    var port = start(new FakeUserService());
    var issued = new AtomicInteger();
    try (var client = UsersClient.forTarget("127.0.0.1:" + port).usePlaintext()
        .bearerToken(() -> "token-" + issued.incrementAndGet()).allowTokenOverPlaintext().build()) {

      client.getUser("u1");
      client.getUser("u2");

      assertThat(authorizations).containsExactly("Bearer token-1", "Bearer token-2");
    }
  }

  @Test
  void aPrivateConnectionCarriesTheTokenWithoutBeingAllowedPlaintext() {
    // The in-process transport reports privacy and integrity, as TLS does.
    try (var service = new InProcessService(new FakeUserService(), new RecordAuthorization());
        var client = service.client(UsersClient.forTarget("in-process").bearerToken(() -> "secret"))) {

      client.getUser("u1");

      assertThat(authorizations).containsExactly("Bearer secret");
    }
  }

  @Test
  void callsAreSpreadOverEveryReplicaOfAFixedList() throws IOException {
    var replicas = List.of(new FakeUserService(), new FakeUserService(), new FakeUserService());
    var addresses = new ArrayList<InetSocketAddress>();
    for (var replica : replicas) {
      addresses.add(new InetSocketAddress("127.0.0.1", start(replica)));
    }
    try (var client = UsersClient.forAddresses(addresses).usePlaintext().build()) {
      // round_robin picks among the connections that are ready: until the last one is, the first
      // calls go to the others. Count from when every replica has answered one.
      for (var i = 0; i < 100 && replicas.stream().anyMatch(replica -> replica.attempts("GetUser") == 0); i++) {
        client.getUser("warm-up" + i);
      }
      var before = replicas.stream().map(replica -> replica.attempts("GetUser")).toList();

      for (var i = 0; i < 30; i++) {
        client.getUser("u" + i);
      }

      var calls = IntStream.range(0, replicas.size())
          .mapToObj(i -> replicas.get(i).attempts("GetUser") - before.get(i))
          .toList();
      System.out.println("GetUser calls per replica: " + calls);
      // With pick_first every call would reach the first replica. How evenly round_robin shares
      // them while connections settle is timing; ReplicasTest measures fairness under real load.
      assertThat(calls).allSatisfy(count -> assertThat(count).isPositive());
    }
  }

  private int start(FakeUserService service) throws IOException {
    var server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .addService(ServerInterceptors.intercept(service, new RecordAuthorization()))
        .build()
        .start();
    servers.add(server);
    return server.getPort();
  }

  private final class RecordAuthorization implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      var authorization = headers.get(AUTHORIZATION);
      if (authorization != null) {
        authorizations.add(authorization);
      }
      return next.startCall(call, headers);
    }
  }
}
