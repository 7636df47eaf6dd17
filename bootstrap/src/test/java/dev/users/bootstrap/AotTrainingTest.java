package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.users.adapter.persistence.PostgresTestDatabase;
import java.sql.SQLException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The run the AOT cache is trained on serves every RPC on the storage a production start-up uses,
 * and leaves nothing behind in the database it trained on.
 */
class AotTrainingTest {

  @Test
  void trainsOnPostgresqlInASchemaOfItsOwnAndDropsItAfterwards() throws SQLException {
    var database = PostgresTestDatabase.get();

    var outcome = AotTraining.run(Map.of(
        "USERS_DB_URL", database.jdbcUrl(), "USERS_DB_USER", database.user(), "USERS_DB_PASSWORD", database.password()));

    assertThat(outcome.storage()).isEqualTo(Config.StorageKind.POSTGRES);
    assertThat(outcome.schema()).startsWith("users_aot_training_");
    assertThat(outcome.calls()).as("health, every users RPC, and the documented errors").isGreaterThan(400);
    var source = new PGSimpleDataSource();
    source.setURL(database.jdbcUrl());
    source.setUser(database.user());
    source.setPassword(database.password());
    try (var connection = source.getConnection();
        var query = connection.prepareStatement("SELECT count(*) FROM pg_namespace WHERE nspname = ?")) {
      query.setString(1, outcome.schema());
      try (var rows = query.executeQuery()) {
        rows.next();
        assertThat(rows.getInt(1)).as("schema %s left behind", outcome.schema()).isZero();
      }
    }
  }

  @Test
  void trainsOnMemoryWhenNoPostgresqlAnswers() {
    var outcome = AotTraining.run(Map.of("USERS_DB_URL", "jdbc:postgresql://127.0.0.1:1/users"));

    assertThat(outcome.storage()).isEqualTo(Config.StorageKind.MEMORY);
    assertThat(outcome.schema()).isEmpty();
    assertThat(outcome.calls()).isGreaterThan(400);
  }
}
