package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.users.adapter.persistence.PostgresTestDatabase;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.ObjectMapper;

/**
 * The packaged service jar as an operator runs it: a separate JVM, configured by environment
 * variables, stopped with SIGTERM. Runs after {@code package}, in the integration-test phase.
 */
class ServiceJarIT {

  @RegisterExtension
  final ServiceJar.Launcher services = new ServiceJar.Launcher();

  @Test
  void aBadSettingStopsStartUpWithOneLineNamingIt() throws Exception {
    var service = services.start(Map.of("USERS_GRPC_PORT", "fifty"));

    assertThat(service.exitCode()).isEqualTo(2);
    assertThat(service.output()).containsExactly(
        "users-service: invalid configuration: USERS_GRPC_PORT must be an integer from 0 to 65535, got \"fifty\"");
  }

  @Test
  void anArgumentStopsStartUpWithOneLineNamingIt() throws Exception {
    var service = services.start(Map.of("USERS_STORAGE", "memory"), "--port=50051");

    assertThat(service.exitCode()).isEqualTo(2);
    assertThat(service.output()).containsExactly(
        "users-service: unknown argument \"--port=50051\"; the service takes none (settings are environment variables)");
  }

  @Test
  void startsWithItsClassesFromTheAotCacheThePackagePhaseTrained(@TempDir Path dir) throws Exception {
    assumeTrue(Runtime.version().feature() >= 25, "the AOT cache needs JDK 25; this build runs on " + Runtime.version());
    var classes = dir.resolve("classes.log");
    var service = services.start(Map.of("USERS_STORAGE", "memory", "USERS_GRPC_PORT", "0",
        "JAVA_OPTS", "-Xlog:class+load=info:file=" + classes));
    service.awaitPort();
    service.sigterm();
    assertThat(service.exitCode()).isZero();

    assertThat(Files.readAllLines(classes))
        .as("the service's own classes, loaded and linked from the cache rather than from the jar")
        .anyMatch(line -> line.contains("dev.users.bootstrap.UsersServer source: shared objects file"))
        .noneMatch(line -> line.contains("dev.users.bootstrap.UsersServer source: file:"));
    assertThat(service.output()).as("an AOT cache in use says nothing").noneMatch(line -> line.contains("[aot]"));
  }

  @Test
  void theAotCacheHoldsTheServersClassesAndNoneOfTheGrpcClientsThatOnlyTheTrainingCalledThrough() throws Exception {
    var lines = aotCacheListing();

    // Filtered first: the listing has some 8,000 classes, too many for a failure message.
    assertThat(lines).as("the server's transport")
        .filteredOn(line -> line.endsWith(": io.grpc.netty.shaded.io.grpc.netty.NettyServerTransport app_loader"))
        .hasSize(1);
    assertThat(lines).as("the client's channel and transport, which the service never runs")
        .filteredOn(line -> line.endsWith(": io.grpc.internal.ManagedChannelImpl app_loader")
            || line.endsWith(": io.grpc.netty.shaded.io.grpc.netty.NettyClientTransport app_loader"))
        .isEmpty();
  }

  @Test
  void theAotCacheCarriesNoMethodProfilesForTheJitToReplayAtStartUp() throws Exception {
    var lines = aotCacheListing();

    int profiles = lines.indexOf("Archived TrainingData Dictionary");
    assertThat(profiles).as("the listing's section of training data").isNotNegative();
    assertThat(lines.subList(profiles + 1, lines.size()))
        .as("the first line after the section, which has no entries")
        .first().asString().startsWith("Number of shared symbols");
  }

  /** What the cache {@code bin/users-service} starts with holds, as the JVM lists it. */
  private List<String> aotCacheListing() throws Exception {
    assumeTrue(Runtime.version().feature() >= 25, "the AOT cache needs JDK 25; this build runs on " + Runtime.version());
    var cache = services.start(Map.of("JAVA_OPTS", "-XX:+PrintSharedArchiveAndExit"));
    assertThat(cache.exitCode()).isZero();
    var lines = cache.output();
    assertThat(lines).as("the cache's verdict").filteredOn(line -> line.startsWith("archive is")).containsExactly(
        "archive is valid");
    return lines;
  }

  @Test
  void aBadLogFormatStopsStartUpWithOneLineNamingIt() throws Exception {
    var service = services.start(Map.of("USERS_LOG_FORMAT", "xml"));

    assertThat(service.exitCode()).isEqualTo(2);
    assertThat(service.output()).containsExactly(
        "users-service: invalid configuration: USERS_LOG_FORMAT must be one of text, json, got \"xml\"");
  }

  @Test
  void writesOneJsonObjectPerLineWhenToldTo() throws Exception {
    var service = services.start(Map.of("USERS_LOG_FORMAT", "json", "USERS_STORAGE", "memory", "USERS_GRPC_PORT", "0"));
    service.awaitPort();
    service.sigterm();

    assertThat(service.exitCode()).isZero();
    var mapper = new ObjectMapper();
    assertThat(service.output()).isNotEmpty().allSatisfy(line ->
        assertThat(mapper.readTree(line).path("message").isTextual()).as("a JSON log event: %s", line).isTrue());
  }

  @Test
  void servesHealthInPlainTextOnTheHealthPortForProbesWhileTheGrpcPortSpeaksTls(@TempDir Path dir) throws Exception {
    var certificate = dir.resolve("cert.pem");
    var key = dir.resolve("server.key");
    TestPki.Authority.named("CA").server("localhost").writeTo(certificate, key);
    int healthPort;
    try (var socket = new ServerSocket(0)) {
      healthPort = socket.getLocalPort();
    }
    var service = services.start(Map.of("USERS_STORAGE", "memory", "USERS_GRPC_PORT", "0",
        "USERS_TLS_CERT_FILE", certificate.toString(), "USERS_TLS_KEY_FILE", key.toString(),
        "USERS_HEALTH_PORT", Integer.toString(healthPort)));
    service.awaitPort();

    var channel = Grpc.newChannelBuilderForAddress("127.0.0.1", healthPort, InsecureChannelCredentials.create()).build();
    try {
      var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
      for (var name : java.util.List.of("", "users.v1.UserService")) {
        assertThat(health.check(HealthCheckRequest.newBuilder().setService(name).build()).getStatus())
            .as("health of \"%s\"", name).isEqualTo(ServingStatus.SERVING);
      }
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void aGarbageTlsCertificateStopsStartUpWithOneLineNamingIt(@TempDir Path dir) throws Exception {
    var certificate = dir.resolve("cert.pem");
    var key = dir.resolve("server.key");
    TestPki.Authority.named("CA").server("localhost").writeTo(certificate, key);
    TestPki.replace(certificate, "not a certificate");

    var service = services.start(Map.of("USERS_TLS_CERT_FILE", certificate.toString(), "USERS_TLS_KEY_FILE", key.toString()));

    assertThat(service.exitCode()).isEqualTo(2);
    assertThat(service.output()).containsExactly("users-service: invalid configuration: USERS_TLS_CERT_FILE must name"
        + " a PEM file holding an X.509 certificate chain, got \"" + certificate + "\"");
  }

  @Test
  void productionWithoutTlsStopsStartUpWithOneLineNamingTheCertificateVariable() throws Exception {
    var service = services.start(Map.of("USERS_ENV", "production", "USERS_STORAGE", "memory"));

    assertThat(service.exitCode()).isEqualTo(2);
    assertThat(service.output()).containsExactly("users-service: invalid configuration: USERS_TLS_CERT_FILE must be"
        + " set in production (with USERS_TLS_KEY_FILE), or USERS_ALLOW_PLAINTEXT=true when a sidecar or mesh"
        + " terminates TLS in front of the service");
  }

  @Test
  void aJwksFileThatIsNoJwksStopsStartUpWithOneLineNamingIt(@TempDir Path dir) throws Exception {
    var jwks = Files.writeString(dir.resolve("jwks.json"), "-----BEGIN PUBLIC KEY-----");

    var service = services.start(Map.of(
        "USERS_AUTH", "jwt",
        "USERS_AUTH_JWKS_FILE", jwks.toString(),
        "USERS_AUTH_ISSUER", "https://issuer.test",
        "USERS_AUTH_AUDIENCE", "users-service"));

    assertThat(service.exitCode()).isEqualTo(2);
    assertThat(service.output()).singleElement().asString().startsWith(
        "users-service: invalid configuration: USERS_AUTH_JWKS_FILE must name a JWKS file, but \"" + jwks
            + "\" is not a JWKS document");
  }

  @Test
  void anUnreachableDatabaseStopsStartUpWithOneLineSayingWhereItTried() throws Exception {
    var service = services.start(Map.of("USERS_DB_URL", "jdbc:postgresql://127.0.0.1:1/users"));

    assertThat(service.exitCode()).isEqualTo(1);
    assertThat(service.output())
        .filteredOn(line -> line.contains("cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:1/users"))
        .hasSize(1);
    assertThat(service.output()).noneMatch(line -> line.startsWith("\tat ") || line.contains("Exception"));
  }

  @Test
  void servesOnPostgresqlAndStopsGracefullyOnSigterm() throws Exception {
    var database = PostgresTestDatabase.get();
    var schema = database.newSchemaName();
    try {
      var service = services.start(Map.of(
          "USERS_GRPC_PORT", "0",
          "USERS_DB_URL", database.jdbcUrl(),
          "USERS_DB_USER", database.user(),
          "USERS_DB_PASSWORD", database.password(),
          "USERS_DB_SCHEMA", schema));
      int port = service.awaitPort();

      var channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create()).build();
      try {
        var status = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
            .check(HealthCheckRequest.newBuilder().setService("users.v1.UserService").build())
            .getStatus();
        assertThat(status).isEqualTo(ServingStatus.SERVING);
      } finally {
        channel.shutdownNow();
      }

      // SIGTERM through the handle: Process.destroy() would also close our end of its output.
      service.process.toHandle().destroy();
      assertThat(service.exitCode()).as("the exit code Main documents for a clean shutdown").isZero();
      assertThat(service.output()).anyMatch(line -> line.contains("users-service stopped"));
    } finally {
      database.dropSchema(schema);
    }
  }
}
