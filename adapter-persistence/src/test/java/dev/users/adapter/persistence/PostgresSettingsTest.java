package dev.users.adapter.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class PostgresSettingsTest {

  private static PostgresSettings settings(String url, String schema, Duration connectionTimeout) {
    return new PostgresSettings(url, "postgres", "hunter2", schema, 10, connectionTimeout, Duration.ofSeconds(5));
  }

  @Test
  void keepsPasswordsOutOfItsPrintedForm() {
    var settings = settings("jdbc:postgresql://db:5432/users?password=secret", "users", Duration.ofSeconds(1));

    assertThat(settings.toString())
        .contains("jdbc:postgresql://db:5432/users", "schema=users")
        .doesNotContain("hunter2", "secret");
  }

  @Test
  void refusesAConnectionTimeoutHikariWouldReplaceWithThirtySeconds() {
    assertThatThrownBy(() -> settings("jdbc:postgresql://db/users", "users", Duration.ofMillis(249)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("connectionTimeout");
  }

  @Test
  void refusesASchemaThatIsNotALowerCaseIdentifier() {
    assertThatThrownBy(() -> settings("jdbc:postgresql://db/users", "Users; DROP", Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("schema");
  }

  @Test
  void refusesAUrlForAnotherDatabase() {
    assertThatThrownBy(() -> settings("jdbc:mysql://db/users", "users", Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("jdbc:postgresql:");
  }
}
