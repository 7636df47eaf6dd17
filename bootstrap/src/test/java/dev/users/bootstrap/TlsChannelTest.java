package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

/**
 * The TLS channel over real sockets, with certificates made by {@link TestPki}: protocol versions,
 * client certificates in each {@code USERS_TLS_CLIENT_AUTH} mode, and files replaced while the
 * service runs.
 */
class TlsChannelTest {

  private static final Duration RELOAD_INTERVAL = Duration.ofMillis(200);
  private static final Duration PATIENCE = Duration.ofSeconds(10);

  private final TestPki.Authority serverCa = TestPki.Authority.named("server CA");
  private final TestPki.Authority clientCa = TestPki.Authority.named("client CA");

  @TempDir
  Path dir;
  private Path certificateFile;
  private Path keyFile;
  private Path clientCaFile;
  private UsersServer server;
  private final List<ManagedChannel> channels = new CopyOnWriteArrayList<>();
  private final List<ILoggingEvent> reloadLog = new CopyOnWriteArrayList<>();
  private final AppenderBase<ILoggingEvent> reloadLogAppender = new AppenderBase<>() {
    @Override
    protected void append(ILoggingEvent event) {
      reloadLog.add(event);
    }
  };

  /** Which certificate a client presents, if any. */
  enum ClientCertificate { NONE, TRUSTED, UNTRUSTED, EXPIRED }

  @BeforeEach
  void writeFiles() {
    certificateFile = dir.resolve("server.pem");
    keyFile = dir.resolve("server.key");
    clientCaFile = dir.resolve("client-ca.pem");
    serverCa.server("server one").writeTo(certificateFile, keyFile);
    TestPki.replace(clientCaFile, clientCa.certificatePem());
    reloadLogAppender.start();
    reloadLogger().addAppender(reloadLogAppender);
  }

  @AfterEach
  void stop() throws InterruptedException {
    for (var channel : channels) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.stop();
    }
    reloadLogger().detachAppender(reloadLogAppender);
  }

  @ParameterizedTest(name = "client auth {0}, {1} client certificate: {2}")
  @CsvSource(delimiter = '|', value = {
      // Not asked for, so never sent nor looked at.
      "none     | NONE      | admitted",
      "none     | TRUSTED   | admitted",
      "none     | UNTRUSTED | admitted",
      "none     | EXPIRED   | admitted",
      // Asked for: a client may send none, but one it sends must be valid.
      "optional | NONE      | admitted",
      "optional | TRUSTED   | admitted",
      "optional | UNTRUSTED | refused",
      "optional | EXPIRED   | refused",
      "require  | NONE      | refused",
      "require  | TRUSTED   | admitted",
      "require  | UNTRUSTED | refused",
      "require  | EXPIRED   | refused",
  })
  void admitsOnlyTheClientCertificatesItsModeAllows(String mode, ClientCertificate presented, String outcome) {
    var env = new HashMap<String, String>();
    env.put("USERS_TLS_CLIENT_AUTH", mode);
    if (!mode.equals("none")) {
      env.put("USERS_TLS_CLIENT_CA_FILE", clientCaFile.toString());
    }
    start(env);

    var client = switch (presented) {
      case NONE -> null;
      case TRUSTED -> clientCa.client("trusted client");
      case UNTRUSTED -> TestPki.Authority.named("unknown CA").client("untrusted client");
      case EXPIRED -> clientCa.expiredClient("expired client");
    };

    // A refused handshake fails the call UNAVAILABLE: the client never reaches the service.
    assertThat(healthCheck(channel(client))).isEqualTo(outcome.equals("admitted") ? "OK" : "UNAVAILABLE");
  }

  @Test
  void negotiatesTls13WhenTheClientOffersIt() throws Exception {
    start(Map.of());

    assertThat(handshake().getProtocol()).isEqualTo("TLSv1.3");
  }

  @Test
  void acceptsTls12Clients() throws Exception {
    start(Map.of());

    assertThat(handshake("TLSv1.2").getProtocol()).isEqualTo("TLSv1.2");
  }

  @Test
  void refusesTls11ClientsWithAProtocolVersionAlert() throws Exception {
    start(Map.of());

    // The JDK cannot be made to offer TLS 1.1 (jdk.tls.disabledAlgorithms, read once per JVM), so
    // the ClientHello is written by hand: TLS 1.1 with two cipher suites TLS 1.1 can use.
    try (var socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
      socket.setSoTimeout(5_000);
      socket.getOutputStream().write(tls11ClientHello());
      var answer = socket.getInputStream().readNBytes(7);

      assertThat(answer).as("a TLS record").hasSize(7);
      assertThat(answer[0]).as("record type: alert").isEqualTo((byte) 21);
      assertThat(answer[5]).as("alert level: fatal").isEqualTo((byte) 2);
      assertThat(answer[6]).as("alert: protocol_version").isEqualTo((byte) 70);
    }
  }

  @Test
  void rotatedFilesReachNewConnectionsWhileOpenOnesKeepWorking() throws Exception {
    start(Map.of());
    var seenByOpenConnection = new AtomicReference<X509Certificate>();
    var open = ClientInterceptors.intercept(channel(null), recordingServerCertificate(seenByOpenConnection));
    assertThat(healthCheck(open)).isEqualTo("OK");
    assertThat(commonName(seenByOpenConnection.get())).isEqualTo("server one");

    serverCa.server("server two").writeTo(certificateFile, keyFile);

    awaitTrue(() -> commonName(serverCertificateOfANewConnection()).equals("server two"),
        "a new connection is served the new certificate");
    assertThat(healthCheck(channel(null))).isEqualTo("OK");
    assertThat(healthCheck(open)).isEqualTo("OK");
    assertThat(commonName(seenByOpenConnection.get()))
        .as("the connection opened before the rotation still serves calls, with its certificate")
        .isEqualTo("server one");
  }

  @Test
  void rotatedClientCasDecideNewHandshakes() throws Exception {
    start(Map.of("USERS_TLS_CLIENT_AUTH", "require", "USERS_TLS_CLIENT_CA_FILE", clientCaFile.toString()));
    var newCa = TestPki.Authority.named("new client CA");
    var newClient = newCa.client("new client");
    assertThat(healthCheck(channel(newClient))).isEqualTo("UNAVAILABLE");

    TestPki.replace(clientCaFile, newCa.certificatePem());

    awaitTrue(() -> healthCheck(channel(newClient)).equals("OK"), "a client of the new CA is admitted");
    assertThat(healthCheck(channel(clientCa.client("client of the old CA")))).isEqualTo("UNAVAILABLE");
  }

  @ParameterizedTest(name = "broken {0}")
  @CsvSource(delimiter = '|', value = {
      "certificate | USERS_TLS_CERT_FILE must name a PEM file holding an X.509 certificate chain",
      "key         | USERS_TLS_KEY_FILE does not match the certificate in USERS_TLS_CERT_FILE",
      "client CAs  | USERS_TLS_CLIENT_CA_FILE must name a PEM file holding the X.509 certificates",
  })
  void aFileThatFailsToReloadKeepsThePreviousCredentialsAndIsReportedOnce(String file, String warning)
      throws Exception {
    start(Map.of("USERS_TLS_CLIENT_AUTH", "optional", "USERS_TLS_CLIENT_CA_FILE", clientCaFile.toString()));

    switch (file) {
      case "certificate" -> TestPki.replace(certificateFile, "not a certificate");
      case "key" -> TestPki.replace(keyFile, serverCa.server("server two").keyPem());
      default -> TestPki.replace(clientCaFile, "not a certificate");
    }

    awaitTrue(() -> !warnings().isEmpty(), "the failed reload is reported");
    Thread.sleep(RELOAD_INTERVAL.multipliedBy(5));
    assertThat(warnings()).as("one line, once, naming the variable").singleElement().satisfies(line -> {
      assertThat(line).startsWith("TLS files not reloaded, still serving the previous certificate and CAs: " + warning);
      assertThat(line).doesNotContain("\n");
    });
    assertThat(reloadLog).allSatisfy(event -> assertThat(event.getThrowableProxy()).isNull());
    assertThat(commonName(serverCertificateOfANewConnection())).isEqualTo("server one");
    assertThat(healthCheck(channel(clientCa.client("trusted client")))).isEqualTo("OK");
  }

  private void start(Map<String, String> settings) {
    var env = new HashMap<>(settings);
    env.put("USERS_STORAGE", "memory");
    env.put("USERS_GRPC_PORT", "0");
    env.put("USERS_TLS_CERT_FILE", certificateFile.toString());
    env.put("USERS_TLS_KEY_FILE", keyFile.toString());
    env.put("USERS_TLS_RELOAD_INTERVAL", RELOAD_INTERVAL.toMillis() + "ms");
    server = UsersServer.start(Config.from(env));
  }

  /** A channel to {@code localhost} that trusts the server CA and presents {@code client}, if any. */
  private ManagedChannel channel(TestPki.Issued client) {
    var credentials = TlsChannelCredentials.newBuilder();
    try {
      credentials.trustManager(pem(serverCa.certificatePem()));
      if (client != null) {
        credentials.keyManager(pem(client.certificatePem()), pem(client.keyPem()));
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    var channel = Grpc.newChannelBuilderForAddress("localhost", server.port(), credentials.build()).build();
    channels.add(channel);
    return channel;
  }

  /** @return {@code OK}, or the status code the call failed with */
  private static String healthCheck(Channel channel) {
    try {
      HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance());
      return "OK";
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode().name();
    }
  }

  private SSLSession handshake(String... protocols) throws Exception {
    var trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry("server CA", serverCa.self().certificate());
    var trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trust);
    var context = SSLContext.getInstance("TLS");
    context.init(null, trustManagers.getTrustManagers(), null);
    try (var socket = (SSLSocket) context.getSocketFactory().createSocket("localhost", server.port())) {
      socket.setSoTimeout(5_000);
      var parameters = socket.getSSLParameters();
      parameters.setApplicationProtocols(new String[] {"h2"});
      if (protocols.length > 0) {
        parameters.setProtocols(protocols);
      }
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      return socket.getSession();
    }
  }

  private X509Certificate serverCertificateOfANewConnection() {
    try {
      return (X509Certificate) handshake().getPeerCertificates()[0];
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Records the certificate the server presented on the connection that carried each call. */
  private static ClientInterceptor recordingServerCertificate(AtomicReference<X509Certificate> seen) {
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        var call = next.newCall(method, options);
        return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onHeaders(Metadata responseHeaders) {
                var session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
                try {
                  seen.set((X509Certificate) session.getPeerCertificates()[0]);
                } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                  throw new IllegalStateException(e);
                }
                super.onHeaders(responseHeaders);
              }
            }, headers);
          }
        };
      }
    };
  }

  private static byte[] tls11ClientHello() {
    var random = new byte[32];
    new SecureRandom().nextBytes(random);
    var body = ByteBuffer.allocate(128)
        .put(new byte[] {3, 2})                             // client_version: TLS 1.1
        .put(random)
        .put((byte) 0)                                      // no session id
        .putShort((short) 4).putShort((short) 0xc009).putShort((short) 0xc013) // ECDHE-{ECDSA,RSA}-AES128-SHA
        .put((byte) 1).put((byte) 0)                        // null compression
        .putShort((short) 14)                               // extensions:
        .putShort((short) 0x000a).putShort((short) 4).putShort((short) 2).putShort((short) 0x0017) // secp256r1
        .putShort((short) 0x000b).putShort((short) 2).put((byte) 1).put((byte) 0) // uncompressed points
        .flip();
    int length = body.remaining();
    return ByteBuffer.allocate(9 + length)
        .put((byte) 22).put(new byte[] {3, 1}).putShort((short) (4 + length)) // handshake record
        .put((byte) 1).put((byte) 0).putShort((short) length)                 // ClientHello
        .put(body)
        .array();
  }

  private List<String> warnings() {
    return reloadLog.stream()
        .filter(event -> event.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  private static Logger reloadLogger() {
    return (Logger) LoggerFactory.getLogger(ReloadingTlsCredentials.class);
  }

  private static String commonName(X509Certificate certificate) {
    return certificate.getSubjectX500Principal().getName().replaceFirst("^CN=", "");
  }

  private static InputStream pem(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII));
  }

  private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
    var deadline = Instant.now().plus(PATIENCE);
    while (!condition.getAsBoolean()) {
      assertThat(Instant.now()).as("still waiting for: %s", what).isBefore(deadline);
      Thread.sleep(50);
    }
  }
}
