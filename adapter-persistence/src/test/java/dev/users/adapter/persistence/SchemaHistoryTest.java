package dev.users.adapter.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.adapter.persistence.SchemaHistory.Migration;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.flywaydb.core.internal.resolver.ChecksumCalculator;
import org.flywaydb.core.internal.resource.StringResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SchemaHistoryTest {

  private static final String MIGRATIONS = "db/users/migration";

  private String schema;

  @AfterEach
  void dropSchema() {
    if (schema != null) {
      PostgresTestDatabase.get().dropSchema(schema);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"SELECT 1;", "SELECT 1;\n", "CREATE TABLE t (\r\n  id int\r\n);\r\n", "\uFEFFSELECT 1;\n",
      "-- é, ü and 用户\nSELECT 'x';\n\n", "a\rb\nc", ""})
  void checksumsAScriptAsFlywayDoes(String script) throws IOException {
    int flyways = ChecksumCalculator.calculate(new StringResource(script));

    assertThat(SchemaHistory.checksum(new ByteArrayInputStream(script.getBytes(StandardCharsets.UTF_8))))
        .isEqualTo(flyways);
  }

  @Test
  void aSchemaFlywayMigratedHoldsExactlyThisBuildsMigrations() throws Exception {
    migrateNewSchema();

    assertThat(holdsThisBuildsMigrations()).isTrue();
  }

  @Test
  void aScriptChangedSinceItWasAppliedIsNotThisBuilds() throws Exception {
    migrateNewSchema();
    execute("UPDATE %s.flyway_schema_history SET checksum = checksum + 1 WHERE version = '1'");

    assertThat(holdsThisBuildsMigrations()).isFalse();
  }

  @Test
  void aPendingMigrationIsNotThisBuilds() throws Exception {
    migrateNewSchema();
    execute("DELETE FROM %1$s.flyway_schema_history"
        + " WHERE installed_rank = (SELECT max(installed_rank) FROM %1$s.flyway_schema_history)");

    assertThat(holdsThisBuildsMigrations()).isFalse();
  }

  @Test
  void aMigrationThisBuildDoesNotHaveIsNotThisBuilds() throws Exception {
    migrateNewSchema();
    execute("INSERT INTO %1$s.flyway_schema_history (installed_rank, version, description, type, script, checksum,"
        + " installed_by, execution_time, success) SELECT max(installed_rank) + 1, '99', 'later', 'SQL',"
        + " 'V99__later.sql', 1, 'postgres', 1, true FROM %1$s.flyway_schema_history");

    assertThat(holdsThisBuildsMigrations()).isFalse();
  }

  @Test
  void aFailedMigrationIsNotThisBuilds() throws Exception {
    migrateNewSchema();
    execute("UPDATE %1$s.flyway_schema_history SET success = false"
        + " WHERE installed_rank = (SELECT max(installed_rank) FROM %1$s.flyway_schema_history)");

    assertThat(holdsThisBuildsMigrations()).isFalse();
  }

  @Test
  void aSchemaWithoutHistoryCannotBeRead() throws Exception {
    schema = PostgresTestDatabase.get().newSchemaName();
    execute("CREATE SCHEMA %s");
    var bundled = SchemaHistory.bundled(getClass().getClassLoader(), MIGRATIONS).orElseThrow();

    try (var connection = PostgresTestDatabase.get().connect()) {
      assertThatThrownBy(() -> SchemaHistory.holdsExactly(connection, schema, bundled))
          .isInstanceOf(SQLException.class);
    }
  }

  @Test
  void listsTheVersionedScriptsOfALocationInAJar(@TempDir Path directory) throws IOException {
    var jar = jar(directory, Map.of("db/x/migration/V1__first.sql", "SELECT 1;\n",
        "db/x/migration/V1_1__second.sql", "SELECT 2;\n", "db/x/other/V9__elsewhere.sql", "SELECT 9;\n"));

    try (var loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      assertThat(SchemaHistory.bundled(loader, "db/x/migration")).contains(Set.of(
          new Migration("V1__first.sql", checksum("SELECT 1;\n")),
          new Migration("V1_1__second.sql", checksum("SELECT 2;\n"))));
    }
  }

  @Test
  void listsTheVersionedScriptsOfALocationInADirectory(@TempDir Path directory) throws IOException {
    Files.createDirectories(directory.resolve("db/x/migration"));
    Files.writeString(directory.resolve("db/x/migration/V1__first.sql"), "SELECT 1;\n");

    try (var loader = new URLClassLoader(new URL[] {directory.toUri().toURL()}, null)) {
      assertThat(SchemaHistory.bundled(loader, "db/x/migration"))
          .contains(Set.of(new Migration("V1__first.sql", checksum("SELECT 1;\n"))));
    }
  }

  @Test
  void leavesAJarWithoutDirectoryEntriesToFlyway(@TempDir Path directory) throws IOException {
    var jar = directory.resolve("flat.jar");
    try (var out = new JarOutputStream(Files.newOutputStream(jar))) {
      out.putNextEntry(new JarEntry("db/x/migration/V1__first.sql"));
      out.write("SELECT 1;\n".getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
    }

    try (var loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      assertThat(SchemaHistory.bundled(loader, "db/x/migration")).isEmpty();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"R__repeatable.sql", "afterMigrate.sql", "V2__notes.txt", "nested/V2__deeper.sql"})
  void leavesALocationWithAnythingButVersionedScriptsToFlyway(String other, @TempDir Path directory)
      throws IOException {
    var jar = jar(directory, Map.of("db/x/migration/V1__first.sql", "SELECT 1;\n", "db/x/migration/" + other, "--\n"));

    try (var loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      assertThat(SchemaHistory.bundled(loader, "db/x/migration")).isEmpty();
    }
  }

  private void migrateNewSchema() {
    var database = PostgresTestDatabase.get();
    schema = database.newSchemaName();
    PostgresStorage.open(new PostgresSettings(database.jdbcUrl(), database.user(), database.password(), schema, 2,
        Duration.ofSeconds(30), Duration.ofSeconds(30))).close();
  }

  private boolean holdsThisBuildsMigrations() throws Exception {
    var bundled = SchemaHistory.bundled(getClass().getClassLoader(), MIGRATIONS).orElseThrow();
    assertThat(bundled).as("this build's migrations").isNotEmpty();
    try (var connection = PostgresTestDatabase.get().connect()) {
      return SchemaHistory.holdsExactly(connection, schema, bundled);
    }
  }

  private void execute(String sql) throws SQLException {
    try (var connection = PostgresTestDatabase.get().connect(); var statement = connection.createStatement()) {
      statement.execute(sql.formatted(schema));
    }
  }

  private static int checksum(String script) {
    return ChecksumCalculator.calculate(new StringResource(script));
  }

  private static Path jar(Path directory, Map<String, String> entries) throws IOException {
    var jar = directory.resolve("migrations.jar");
    try (var out = new JarOutputStream(Files.newOutputStream(jar))) {
      // Directory entries first, as a build writes them: class loaders find directories by them.
      var directories = new TreeSet<String>();
      for (var name : entries.keySet()) {
        for (int slash = name.indexOf('/'); slash >= 0; slash = name.indexOf('/', slash + 1)) {
          directories.add(name.substring(0, slash + 1));
        }
      }
      for (var name : directories) {
        out.putNextEntry(new JarEntry(name));
        out.closeEntry();
      }
      for (var entry : entries.entrySet()) {
        out.putNextEntry(new JarEntry(entry.getKey()));
        out.write(entry.getValue().getBytes(StandardCharsets.UTF_8));
        out.closeEntry();
      }
    }
    return jar;
  }
}
