package dev.users.adapter.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import dev.users.application.access.NotAuthenticatedException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Keys rotate by replacing the JWKS file, without a restart. */
class JwksFileTest {

  private static final TestTokens OLD = TestTokens.withKey("2026-01");
  private static final TestTokens NEW = TestTokens.withKey("2026-02");

  @RegisterExtension
  final LogCapture log = LogCapture.of(JwksFile.class);

  @TempDir
  Path dir;

  @Test
  void aTokenOfTheNewKeyIsAcceptedAndOneOfTheRemovedKeyRefusedOnceTheFileIsReplaced() throws Exception {
    var file = OLD.writeJwks(dir.resolve("jwks.json"));
    var keys = JwksFile.load(file);
    var authenticator = new JwtAuthenticator(keys, TestTokens.ISSUER, TestTokens.AUDIENCE);
    var oldToken = OLD.token("reporting").sign();
    var newToken = NEW.token("reporting").sign();
    assertThat(authenticator.authenticate(oldToken).subject()).isEqualTo("reporting");

    NEW.writeJwks(file);
    var scheduler = Executors.newSingleThreadScheduledExecutor();
    try {
      keys.watch(scheduler, Duration.ofMillis(20));
      long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!keys.hasKey("2026-02") && System.nanoTime() < giveUp) {
        Thread.sleep(10);
      }
    } finally {
      scheduler.shutdownNow();
    }

    assertThat(authenticator.authenticate(newToken).subject()).isEqualTo("reporting");
    assertThatThrownBy(() -> authenticator.authenticate(oldToken))
        .isInstanceOf(NotAuthenticatedException.class)
        .hasMessage(JwtAuthenticator.Refusal.UNKNOWN_KEY.description);
    assertThat(log.next().getFormattedMessage()).contains("reloaded").contains("[2026-02]");
  }

  @Test
  void aBrokenReplacementKeepsTheKeysLoadedBeforeAndWarnsOnce() throws Exception {
    var file = OLD.writeJwks(dir.resolve("jwks.json"));
    var keys = JwksFile.load(file);

    Files.writeString(file, "{\"keys\": [");
    keys.reloadIfChanged();
    keys.reloadIfChanged();

    assertThat(keys.hasKey("2026-01")).isTrue();
    var events = log.remaining();
    assertThat(events).hasSize(1);
    assertThat(events.getFirst().getLevel()).isEqualTo(Level.WARN);
    assertThat(events.getFirst().getFormattedMessage()).contains("keeping the keys loaded before");
  }

  @Test
  void aFileWithoutPublicKeysIsNoJwks() throws IOException {
    var file = Files.writeString(dir.resolve("jwks.json"), "{\"keys\": []}");

    assertThatThrownBy(() -> JwksFile.load(file)).isInstanceOf(IOException.class).hasMessage("holds no public key");
  }
}
