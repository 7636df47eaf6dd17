package dev.users.adapter.persistence;

import dev.users.application.port.UserRepository;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;

/**
 * The contract against PostgreSQL, on a schema of this class's own, emptied before each test.
 * The storage opens with the first test rather than before all of them, so that without a
 * database every test reports itself skipped.
 */
class JdbiUserRepositoryTest extends UserRepositoryContract {

  private static String schema;
  private static PostgresStorage storage;

  @AfterAll
  static void dropSchema() {
    if (storage != null) {
      storage.close();
      PostgresTestDatabase.get().dropSchema(schema);
    }
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
