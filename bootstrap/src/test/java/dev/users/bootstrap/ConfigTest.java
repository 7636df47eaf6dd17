package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.adapter.grpc.DeadlinePolicy;
import dev.users.adapter.grpc.ImportLimits;
import dev.users.adapter.grpc.RateLimit;
import dev.users.adapter.grpc.TestTokens;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigTest {

  @TempDir
  static Path tlsFiles;
  private static Path certificate;
  private static Path key;

  @BeforeAll
  static void writeAServerCertificate() {
    certificate = tlsFiles.resolve("server.pem");
    key = tlsFiles.resolve("server.key");
    TestPki.Authority.named("CA").server("localhost").writeTo(certificate, key);
  }

  @Test
  void defaultsWorkAgainstALocalPostgresql() {
    var config = Config.from(Map.of());

    assertThat(config.grpcPort()).isEqualTo(50051);
    assertThat(config.storage()).isEqualTo(Config.StorageKind.POSTGRES);
    assertThat(config.postgres().jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/postgres");
    assertThat(config.postgres().user()).isEqualTo("postgres");
    assertThat(config.postgres().schema()).isEqualTo("users");
    assertThat(config.postgres().connectionTimeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(config.environment()).isEqualTo(Config.Environment.DEVELOPMENT);
    assertThat(config.shutdownGrace()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.shutdownDrain()).isZero();
    assertThat(config.deadlines())
        .isEqualTo(new DeadlinePolicy(Duration.ofSeconds(10), Duration.ofMinutes(10), Optional.empty(), false));
    assertThat(config.tls()).isEmpty();
    assertThat(config.limits().maxUnaryCallsInFlight()).isEqualTo(256);
    assertThat(config.rateLimit()).isEmpty();
    assertThat(config.metricsPort()).isEmpty();
    assertThat(config.logs()).isEqualTo(new Config.Logs(Config.LogFormat.TEXT, Config.LogLevel.INFO));
  }

  @Test
  void readsEveryVariable() {
    var config = Config.from(Map.ofEntries(
        Map.entry("USERS_GRPC_PORT", "0"),
        Map.entry("USERS_STORAGE", "memory"),
        Map.entry("USERS_ENV", "production"),
        Map.entry("USERS_SHUTDOWN_GRACE", "1500ms"),
        Map.entry("USERS_SHUTDOWN_DRAIN", "5s"),
        Map.entry("USERS_DEFAULT_DEADLINE", "2m"),
        Map.entry("USERS_DB_URL", "jdbc:postgresql://db:5432/users"),
        Map.entry("USERS_DB_SCHEMA", "directory"),
        Map.entry("USERS_DB_POOL_SIZE", "20"),
        Map.entry("USERS_MAX_CONNECTION_AGE", "1h"),
        Map.entry("USERS_AUTH", "none"),
        Map.entry("USERS_ALLOW_PLAINTEXT", "true"),
        Map.entry("USERS_METRICS_PORT", "9464"),
        Map.entry("USERS_LOG_FORMAT", "json"),
        // Choices are read in any case, as logback writes its levels.
        Map.entry("USERS_LOG_LEVEL", "DEBUG")));

    assertThat(config.grpcPort()).isZero();
    assertThat(config.storage()).isEqualTo(Config.StorageKind.MEMORY);
    assertThat(config.environment()).isEqualTo(Config.Environment.PRODUCTION);
    assertThat(config.shutdownGrace()).isEqualTo(Duration.ofMillis(1500));
    assertThat(config.shutdownDrain()).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.deadlines().unaryDefault()).isEqualTo(Duration.ofMinutes(2));
    assertThat(config.postgres().jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/users");
    assertThat(config.postgres().schema()).isEqualTo("directory");
    assertThat(config.postgres().maxPoolSize()).isEqualTo(20);
    assertThat(config.limits().maxConnectionAge()).isEqualTo(Duration.ofHours(1));
    assertThat(config.metricsPort()).contains(9464);
    assertThat(config.logs()).isEqualTo(new Config.Logs(Config.LogFormat.JSON, Config.LogLevel.DEBUG));
  }

  @Test
  void readsTheDeadlinePolicy() {
    var config = Config.from(Map.of(
        "USERS_DEFAULT_DEADLINE", "2s",
        "USERS_STREAM_DEFAULT_DEADLINE", "30m",
        "USERS_MAX_DEADLINE", "1h",
        "USERS_REQUIRE_DEADLINE", "true"));

    assertThat(config.deadlines()).isEqualTo(
        new DeadlinePolicy(Duration.ofSeconds(2), Duration.ofMinutes(30), Optional.of(Duration.ofHours(1)), true));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"200/s|200|1", "6000/m|6000|60", "1/m|1|60"})
  void readsTheRateLimitPerSecondOrPerMinute(String value, long calls, long periodSeconds) {
    var config = Config.from(Map.of("USERS_RATE_LIMIT", value));

    assertThat(config.rateLimit()).contains(new RateLimit(calls, Duration.ofSeconds(periodSeconds)));
  }

  @Test
  void hardensConnectionsAndCapsImportsByDefault() {
    var config = Config.from(Map.of());

    assertThat(config.connections()).isEqualTo(
        new Config.Connections(200, Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofSeconds(10)));
    assertThat(config.imports()).isEqualTo(new ImportLimits(1_000_000, Duration.ofMinutes(10)));
  }

  @Test
  void theEventLoopsAreHalfTheProcessorsAndAtLeastOneUnlessSet() {
    assertThat(Config.from(Map.of()).eventLoopThreads())
        .isEqualTo(Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
    assertThat(Config.from(Map.of("USERS_EVENT_LOOP_THREADS", "3")).eventLoopThreads()).isEqualTo(3);
  }

  @Test
  void readsTheConnectionHardeningAndImportCaps() {
    var config = Config.from(Map.of(
        "USERS_MAX_RST_FRAMES_PER_WINDOW", "50",
        "USERS_RST_FRAMES_WINDOW", "1m",
        "USERS_MAX_CONNECTION_IDLE", "90s",
        "USERS_HANDSHAKE_TIMEOUT", "2500ms",
        "USERS_IMPORT_MAX_ITEMS", "5000",
        "USERS_IMPORT_MAX_DURATION", "1h"));

    assertThat(config.connections()).isEqualTo(
        new Config.Connections(50, Duration.ofMinutes(1), Duration.ofSeconds(90), Duration.ofMillis(2500)));
    assertThat(config.imports()).isEqualTo(new ImportLimits(5_000, Duration.ofHours(1)));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "USERS_MAX_RST_FRAMES_PER_WINDOW|0|USERS_MAX_RST_FRAMES_PER_WINDOW must be an integer from 1 to 1000000, got \"0\"",
      "USERS_RST_FRAMES_WINDOW|1500ms|USERS_RST_FRAMES_WINDOW must be a whole number of seconds, got \"1500ms\"",
      "USERS_RST_FRAMES_WINDOW|2h|USERS_RST_FRAMES_WINDOW must be a duration such as 500ms, 10s, 5m or 1h, from 1s to 3600s, got \"2h\"",
      "USERS_MAX_CONNECTION_IDLE|0s|USERS_MAX_CONNECTION_IDLE must be a duration such as 500ms, 10s, 5m or 1h, from 1s to 2592000s, got \"0s\"",
      "USERS_HANDSHAKE_TIMEOUT|1h|USERS_HANDSHAKE_TIMEOUT must be a duration such as 500ms, 10s, 5m or 1h, from 100ms to 300s, got \"1h\"",
      "USERS_IMPORT_MAX_ITEMS|-1|USERS_IMPORT_MAX_ITEMS must be an integer from 1 to 1000000000, got \"-1\"",
      "USERS_EVENT_LOOP_THREADS|0|USERS_EVENT_LOOP_THREADS must be an integer from 1 to 1024, got \"0\"",
      "USERS_IMPORT_MAX_DURATION|10|USERS_IMPORT_MAX_DURATION must be a duration such as 500ms, 10s, 5m or 1h, from 1s to 86400s, got \"10\"",
  })
  void aBadHardeningValueIsOneLineNamingTheVariable(String variable, String value, String message) {
    assertThatThrownBy(() -> Config.from(Map.of(variable, value)))
        .isInstanceOf(ConfigException.class)
        .hasMessage(message)
        .hasNoCause();
  }

  @Test
  void treatsAnEmptyValueAsUnset() {
    assertThat(Config.from(Map.of("USERS_GRPC_PORT", " ")).grpcPort()).isEqualTo(50051);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "USERS_GRPC_PORT|abc|USERS_GRPC_PORT must be an integer from 0 to 65535, got \"abc\"",
      "USERS_GRPC_PORT|70000|USERS_GRPC_PORT must be an integer from 0 to 65535, got \"70000\"",
      "USERS_STORAGE|mysql|USERS_STORAGE must be one of postgres, memory, got \"mysql\"",
      "USERS_ENV|prod|USERS_ENV must be one of development, production, got \"prod\"",
      "USERS_SHUTDOWN_GRACE|10|USERS_SHUTDOWN_GRACE must be a duration such as 500ms, 10s, 5m or 1h, from 0s to 3600s, got \"10\"",
      "USERS_SHUTDOWN_DRAIN|-1s|USERS_SHUTDOWN_DRAIN must be a duration such as 500ms, 10s, 5m or 1h, from 0s to 300s, got \"-1s\"",
      "USERS_SHUTDOWN_DRAIN|6m|USERS_SHUTDOWN_DRAIN must be a duration such as 500ms, 10s, 5m or 1h, from 0s to 300s, got \"6m\"",
      "USERS_DEFAULT_DEADLINE|5ms|USERS_DEFAULT_DEADLINE must be a duration such as 500ms, 10s, 5m or 1h, from 100ms to 3600s, got \"5ms\"",
      "USERS_STREAM_DEFAULT_DEADLINE|forever|USERS_STREAM_DEFAULT_DEADLINE must be a duration such as 500ms, 10s, 5m or 1h, from 100ms to 86400s, got \"forever\"",
      "USERS_MAX_DEADLINE|0s|USERS_MAX_DEADLINE must be a duration such as 500ms, 10s, 5m or 1h, from 100ms to 86400s, got \"0s\"",
      "USERS_REQUIRE_DEADLINE|yes|USERS_REQUIRE_DEADLINE must be true or false, got \"yes\"",
      "USERS_MAX_UNARY_CALLS_IN_FLIGHT|0|USERS_MAX_UNARY_CALLS_IN_FLIGHT must be an integer from 1 to 100000, got \"0\"",
      "USERS_RATE_LIMIT|200|USERS_RATE_LIMIT must be a number of calls per second or per minute such as 200/s or 6000/m, from 1 to 1000000, or empty for no limit, got \"200\"",
      "USERS_RATE_LIMIT|200/h|USERS_RATE_LIMIT must be a number of calls per second or per minute such as 200/s or 6000/m, from 1 to 1000000, or empty for no limit, got \"200/h\"",
      "USERS_RATE_LIMIT|0/s|USERS_RATE_LIMIT must be a number of calls per second or per minute such as 200/s or 6000/m, from 1 to 1000000, or empty for no limit, got \"0/s\"",
      "USERS_RATE_LIMIT|1000001/s|USERS_RATE_LIMIT must be a number of calls per second or per minute such as 200/s or 6000/m, from 1 to 1000000, or empty for no limit, got \"1000001/s\"",
      "USERS_RATE_LIMIT|200 / s|USERS_RATE_LIMIT must be a number of calls per second or per minute such as 200/s or 6000/m, from 1 to 1000000, or empty for no limit, got \"200 / s\"",
      "USERS_DB_URL|jdbc:mysql://x/y|USERS_DB_URL must start with jdbc:postgresql://, got \"jdbc:mysql://x/y\"",
      "USERS_DB_SCHEMA|Users; drop|USERS_DB_SCHEMA must be a lower-case SQL identifier (letters, digits, _; at most 63), got \"Users; drop\"",
      "USERS_DB_POOL_SIZE|0|USERS_DB_POOL_SIZE must be an integer from 1 to 1000, got \"0\"",
      "USERS_TLS_CLIENT_AUTH|always|USERS_TLS_CLIENT_AUTH must be one of none, optional, require, got \"always\"",
      "USERS_TLS_RELOAD_INTERVAL|10ms|USERS_TLS_RELOAD_INTERVAL must be a duration such as 500ms, 10s, 5m or 1h, from 100ms to 86400s, got \"10ms\"",
      "USERS_ALLOW_PLAINTEXT|yes|USERS_ALLOW_PLAINTEXT must be true or false, got \"yes\"",
      "USERS_AUTH|oauth|USERS_AUTH must be one of none, jwt, got \"oauth\"",
      "USERS_LOG_FORMAT|logfmt|USERS_LOG_FORMAT must be one of text, json, got \"logfmt\"",
      "USERS_LOG_LEVEL|verbose|USERS_LOG_LEVEL must be one of trace, debug, info, warn, error, off, got \"verbose\"",
      "USERS_HEALTH_PORT|http|USERS_HEALTH_PORT must be an integer from 0 to 65535, got \"http\"",
      "USERS_METRICS_PORT|65536|USERS_METRICS_PORT must be an integer from 0 to 65535, got \"65536\"",
  })
  void aBadValueIsOneLineNamingTheVariable(String variable, String value, String message) {
    assertThatThrownBy(() -> Config.from(Map.of(variable, value)))
        .isInstanceOf(ConfigException.class)
        .hasMessage(message)
        .hasNoCause();
  }

  @Test
  void authenticationIsOffInDevelopmentAndBearerJwtInProduction() {
    assertThat(Config.from(Map.of()).auth()).isEqualTo(new Config.Auth.None());
    assertThatThrownBy(() -> Config.from(Map.of("USERS_ENV", "production", "USERS_ALLOW_PLAINTEXT", "true")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("USERS_AUTH_JWKS_FILE must be set when USERS_AUTH is jwt (its default in production)");
  }

  @Test
  void readsTheJwtSettings(@TempDir Path dir) {
    var jwks = TestTokens.withKey("key-1").writeJwks(dir.resolve("jwks.json"));

    var config = Config.from(Map.of(
        "USERS_AUTH", "jwt",
        "USERS_AUTH_JWKS_FILE", jwks.toString(),
        "USERS_AUTH_ISSUER", "https://issuer.test",
        "USERS_AUTH_AUDIENCE", "users-service",
        "USERS_AUTH_JWKS_RELOAD_INTERVAL", "30s"));

    assertThat(config.auth()).isEqualTo(
        new Config.Auth.Jwt(jwks, "https://issuer.test", "users-service", Duration.ofSeconds(30)));
  }

  @ParameterizedTest
  @CsvSource({"USERS_AUTH_ISSUER", "USERS_AUTH_AUDIENCE"})
  void jwtNeedsAnIssuerAndAnAudience(String missing, @TempDir Path dir) {
    var env = new HashMap<>(Map.of(
        "USERS_AUTH", "jwt",
        "USERS_AUTH_JWKS_FILE", TestTokens.withKey("key-1").writeJwks(dir.resolve("jwks.json")).toString(),
        "USERS_AUTH_ISSUER", "https://issuer.test",
        "USERS_AUTH_AUDIENCE", "users-service"));
    env.remove(missing);

    assertThatThrownBy(() -> Config.from(env))
        .hasMessage(missing + " must be set when USERS_AUTH is jwt (its default in production)");
  }

  @Test
  void aJwksFileThatIsNoJwksStopsStartUpNamingIt(@TempDir Path dir) throws Exception {
    var jwks = Files.writeString(dir.resolve("jwks.json"), "{\"keys\": \"none\"}");

    assertThatThrownBy(() -> Config.from(Map.of(
            "USERS_AUTH", "jwt",
            "USERS_AUTH_JWKS_FILE", jwks.toString(),
            "USERS_AUTH_ISSUER", "https://issuer.test",
            "USERS_AUTH_AUDIENCE", "users-service")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("USERS_AUTH_JWKS_FILE must name a JWKS file, but \"" + jwks + "\" is not a JWKS document")
        .message().doesNotContain("\n");
  }

  @Test
  void tlsNeedsBothFiles(@TempDir Path dir) throws Exception {
    var cert = Files.writeString(dir.resolve("cert.pem"), "pem");

    assertThatThrownBy(() -> Config.from(Map.of("USERS_TLS_CERT_FILE", cert.toString())))
        .hasMessageStartingWith("USERS_TLS_KEY_FILE must be set too");
  }

  @Test
  void tlsFilesMustBeReadable(@TempDir Path dir) throws Exception {
    var cert = Files.writeString(dir.resolve("cert.pem"), "pem");
    var missingKey = dir.resolve("missing.pem");

    assertThatThrownBy(() -> Config.from(Map.of(
            "USERS_TLS_CERT_FILE", cert.toString(), "USERS_TLS_KEY_FILE", missingKey.toString())))
        .hasMessage("USERS_TLS_KEY_FILE must name a readable file, got \"" + missingKey + "\"");
  }

  @Test
  void tlsIsOnWhenBothFilesAreGiven() {
    var config = Config.from(Map.of("USERS_TLS_CERT_FILE", certificate.toString(), "USERS_TLS_KEY_FILE", key.toString()));

    assertThat(config.tls()).contains(
        new Config.Tls(certificate, key, Config.ClientAuth.NONE, Optional.empty(), Duration.ofMinutes(1)));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "garbage|USERS_TLS_CERT_FILE must name a PEM file holding an X.509 certificate chain",
      "''|USERS_TLS_CERT_FILE must name a PEM file holding an X.509 certificate chain",
      "-----BEGIN CERTIFICATE-----\\nnot base64\\n-----END CERTIFICATE-----|"
          + "USERS_TLS_CERT_FILE must name a PEM file holding an X.509 certificate chain",
  })
  void aCertificateFileThatIsNoCertificateIsOneLineNamingTheVariable(String content, String message, @TempDir Path dir)
      throws Exception {
    var cert = Files.writeString(dir.resolve("cert.pem"), content.replace("\\n", "\n"));

    assertThatThrownBy(() -> Config.from(Map.of("USERS_TLS_CERT_FILE", cert.toString(), "USERS_TLS_KEY_FILE", key.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(message)
        .hasMessageNotContaining("\n")
        .hasNoCause();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "garbage",
      "''",
      "-----BEGIN PRIVATE KEY-----\\nnot base64!\\n-----END PRIVATE KEY-----",
      "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----",
  })
  void aKeyFileThatIsNoPkcs8KeyIsOneLineNamingTheVariable(String content, @TempDir Path dir) throws Exception {
    var keyFile = Files.writeString(dir.resolve("key.pem"), content.replace("\\n", "\n"));

    assertThatThrownBy(() -> Config.from(Map.of("USERS_TLS_CERT_FILE", certificate.toString(), "USERS_TLS_KEY_FILE", keyFile.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("USERS_TLS_KEY_FILE must name a PEM file holding a PKCS#8 RSA or EC private key")
        .hasMessageNotContaining("\n")
        .hasNoCause();
  }

  @Test
  void aKeyThatDoesNotMatchTheCertificateIsOneLineNamingTheKey(@TempDir Path dir) throws Exception {
    var generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(256);
    var otherKey = Files.writeString(dir.resolve("other.key"), "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
            .encodeToString(generator.generateKeyPair().getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n");

    assertThatThrownBy(() -> Config.from(Map.of("USERS_TLS_CERT_FILE", certificate.toString(), "USERS_TLS_KEY_FILE", otherKey.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessage("USERS_TLS_KEY_FILE does not match the certificate in USERS_TLS_CERT_FILE (\"" + otherKey + "\")")
        .hasNoCause();
  }

  @Test
  void productionWithoutTlsIsOneLineNamingTheCertificateVariable() {
    assertThatThrownBy(() -> Config.from(Map.of("USERS_ENV", "production")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("USERS_TLS_CERT_FILE must be set in production (with USERS_TLS_KEY_FILE), or"
            + " USERS_ALLOW_PLAINTEXT=true when a sidecar or mesh terminates TLS in front of the service");
  }

  @Test
  void productionServesPlaintextWhenToldThatTlsEndsInFront() {
    var config = Config.from(Map.of("USERS_ENV", "production", "USERS_ALLOW_PLAINTEXT", "true", "USERS_AUTH", "none"));

    assertThat(config.tls()).isEmpty();
  }

  @Test
  void productionServesTls() {
    var config = Config.from(Map.of(
        "USERS_ENV", "production", "USERS_TLS_CERT_FILE", certificate.toString(), "USERS_TLS_KEY_FILE", key.toString(),
        "USERS_AUTH", "none"));

    assertThat(config.tls()).isPresent();
  }

  @Test
  void readsTheClientCertificateSettings(@TempDir Path dir) {
    var clientCas = dir.resolve("client-ca.pem");
    TestPki.replace(clientCas, TestPki.Authority.named("client CA").certificatePem());

    var config = Config.from(Map.of(
        "USERS_TLS_CERT_FILE", certificate.toString(),
        "USERS_TLS_KEY_FILE", key.toString(),
        "USERS_TLS_CLIENT_AUTH", "require",
        "USERS_TLS_CLIENT_CA_FILE", clientCas.toString(),
        "USERS_TLS_RELOAD_INTERVAL", "30s"));

    assertThat(config.tls()).contains(
        new Config.Tls(certificate, key, Config.ClientAuth.REQUIRE, Optional.of(clientCas), Duration.ofSeconds(30)));
  }

  @ParameterizedTest
  @CsvSource({"optional", "require"})
  void clientCertificatesNeedTheirCaFile(String clientAuth) {
    assertThatThrownBy(() -> Config.from(Map.of(
            "USERS_TLS_CERT_FILE", certificate.toString(),
            "USERS_TLS_KEY_FILE", key.toString(),
            "USERS_TLS_CLIENT_AUTH", clientAuth)))
        .isInstanceOf(ConfigException.class)
        .hasMessage("USERS_TLS_CLIENT_CA_FILE must be set when USERS_TLS_CLIENT_AUTH is " + clientAuth
            + ": it names the CAs trusted to issue client certificates");
  }

  @Test
  void aClientCaFileWithoutClientCertificatesIsOneLineNamingTheMode(@TempDir Path dir) throws Exception {
    var clientCas = Files.writeString(dir.resolve("client-ca.pem"), TestPki.Authority.named("CA").certificatePem());

    assertThatThrownBy(() -> Config.from(Map.of(
            "USERS_TLS_CERT_FILE", certificate.toString(),
            "USERS_TLS_KEY_FILE", key.toString(),
            "USERS_TLS_CLIENT_CA_FILE", clientCas.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessage("USERS_TLS_CLIENT_AUTH must be optional or require when USERS_TLS_CLIENT_CA_FILE is set, got \"none\"");
  }

  @Test
  void clientCertificatesWithoutTlsIsOneLineNamingTheCertificateVariable() {
    assertThatThrownBy(() -> Config.from(Map.of("USERS_TLS_CLIENT_AUTH", "require")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("USERS_TLS_CERT_FILE must be set (with USERS_TLS_KEY_FILE): client certificates need TLS");
  }

  @ParameterizedTest
  @CsvSource({"garbage", "''"})
  void aClientCaFileThatIsNoCertificateIsOneLineNamingTheVariable(String content, @TempDir Path dir) throws Exception {
    var clientCas = Files.writeString(dir.resolve("client-ca.pem"), content);

    assertThatThrownBy(() -> Config.from(Map.of(
            "USERS_TLS_CERT_FILE", certificate.toString(),
            "USERS_TLS_KEY_FILE", key.toString(),
            "USERS_TLS_CLIENT_AUTH", "optional",
            "USERS_TLS_CLIENT_CA_FILE", clientCas.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessage("USERS_TLS_CLIENT_CA_FILE must name a PEM file holding the X.509 certificates of the CAs"
            + " trusted for client certificates, got \"" + clientCas + "\"")
        .hasNoCause();
  }

  @Test
  void aMissingClientCaFileIsOneLineNamingTheVariable(@TempDir Path dir) {
    var missing = dir.resolve("missing.pem");

    assertThatThrownBy(() -> Config.from(Map.of(
            "USERS_TLS_CERT_FILE", certificate.toString(),
            "USERS_TLS_KEY_FILE", key.toString(),
            "USERS_TLS_CLIENT_AUTH", "require",
            "USERS_TLS_CLIENT_CA_FILE", missing.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessage("USERS_TLS_CLIENT_CA_FILE must name a readable file, got \"" + missing + "\"");
  }
}
