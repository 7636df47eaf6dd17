package dev.users.adapter.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import dev.users.application.port.UserRepository;
import dev.users.domain.DisplayName;
import dev.users.domain.UserId;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The contract against PostgreSQL, on a schema of this class's own, emptied before each test, and
 * what only a database can hold: rows that older rules let in.
 * The storage opens with the first test rather than before all of them, so that without a
 * database every test reports itself skipped.
 */
class JdbiUserRepositoryTest extends UserRepositoryContract {

  private static final String LEGACY_NAME = "Ada Lovelace, ".repeat(10) + "Countess";

  private static String schema;
  private static PostgresStorage storage;

  @AfterAll
  static void dropSchema() {
    if (storage != null) {
      storage.close();
      PostgresTestDatabase.get().dropSchema(schema);
    }
  }

  @Test
  void readsAUserStoredUnderRulesTighterSinceWithoutJudgingIt() {
    var legacy = insertLegacyUser();

    var found = storage.users().findById(legacy);

    assertThat(found).hasValueSatisfying(user -> {
      assertThat(user.email().value()).isEqualTo("root@localhost");
      assertThat(user.displayName().value()).isEqualTo(LEGACY_NAME);
    });
    assertThat(storage.users().listFirst(10)).containsExactly(found.orElseThrow());
    assertThat(storage.users().listAfter(new UserId(new UUID(0, 0)), 10)).containsExactly(found.orElseThrow());
  }

  @Test
  void changesAUserStoredUnderRulesTighterSinceKeepingWhatTheChangeLeaves() {
    var legacy = insertLegacyUser();

    var renamed = storage.users().update(legacy, user -> user.rename(new DisplayName("Ada"), UserBuilder.CREATED));

    assertThat(renamed.displayName()).isEqualTo(new DisplayName("Ada"));
    assertThat(renamed.email().value()).isEqualTo("root@localhost");
    assertThat(renamed.version()).isEqualTo(2);
  }

  /**
   * Stores, as SQL would have under older rules, a user whose email has no dot in its domain and
   * whose name is longer than today's maximum.
   */
  private static UserId insertLegacyUser() {
    var id = UUID.fromString("0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8b");
    var insert = "INSERT INTO " + schema + ".users"
        + " (id, email, email_canonical, display_name, create_time, update_time, version)"
        + " VALUES (?, 'root@localhost', 'root@localhost', ?, now(), now(), 1)";
    try (var connection = PostgresTestDatabase.get().connect();
        var statement = connection.prepareStatement(insert)) {
      statement.setObject(1, id);
      statement.setString(2, LEGACY_NAME);
      statement.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return new UserId(id);
  }

  @Override
  protected UserRepository emptyRepository() {
    if (storage == null) {
      var database = PostgresTestDatabase.get();
      schema = database.newSchemaName();
      storage = PostgresStorage.open(database.settings(schema, 4, Duration.ofSeconds(5), Duration.ofSeconds(10)));
    }
    try (var connection = PostgresTestDatabase.get().connect(); var statement = connection.createStatement()) {
      statement.execute("TRUNCATE " + schema + ".users");
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return storage.users();
  }
}
