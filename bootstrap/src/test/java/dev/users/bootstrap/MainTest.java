package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {

  @Test
  void aTlsFileBrokenBetweenReadingTheSettingsAndStartingStopsStartUpWithOneLineNamingIt(@TempDir Path dir) {
    var certificate = dir.resolve("server.pem");
    var key = dir.resolve("server.key");
    TestPki.Authority.named("server CA").server("server").writeTo(certificate, key);
    var config = Config.from(Map.of(
        "USERS_STORAGE", "memory",
        "USERS_GRPC_PORT", "0",
        "USERS_TLS_CERT_FILE", certificate.toString(),
        "USERS_TLS_KEY_FILE", key.toString()));
    TestPki.replace(certificate, "not a certificate");
    var errors = new ByteArrayOutputStream();
    var stderr = System.err;

    OptionalInt exitCode;
    System.setErr(new PrintStream(errors, true, StandardCharsets.UTF_8));
    try {
      exitCode = Main.start(config, server -> { });
    } finally {
      System.setErr(stderr);
    }

    assertThat(exitCode).hasValue(2);
    assertThat(errors.toString(StandardCharsets.UTF_8).lines().toList()).singleElement().asString()
        .startsWith("users-service: invalid configuration: USERS_TLS_CERT_FILE must name a PEM file");
  }
}
