package dev.users.benchmark;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;
import org.postgresql.PGConnection;
import org.postgresql.copy.PGCopyOutputStream;

/**
 * What PostgreSQL itself does with the bulk paths' rows on this machine, through the same JDBC
 * driver: {@code COPY ... FROM STDIN} of new users into a table shaped like {@code users}, and
 * {@code COPY (SELECT ...) TO STDOUT} of the stored users in id order. The service's ImportUsers
 * and ListUsers are measured against these, in the same run.
 */
final class CopyCeilings {

  private final ScratchDatabase database;
  private final String schema;

  /** @param schema the service's schema, holding its {@code users} table */
  CopyCeilings(ScratchDatabase database, String schema) {
    this.database = database;
    this.schema = schema;
  }

  /** Rows and the seconds they took. */
  record Copied(long rows, double seconds) {
    double rowsPerSecond() {
      return rows / seconds;
    }
  }

  /**
   * Copies {@code count} rows like the ones ImportUsers stores (random id, email, canonical email,
   * name, timestamps, version) in text format into a fresh copy of {@code users} with all its
   * indexes and constraints, in a scratch schema dropped afterwards.
   */
  Copied copyIn(int count) throws Exception {
    var scratch = schema + "_copy";
    try (var connection = database.connect(); var statement = connection.createStatement()) {
      statement.execute("CREATE SCHEMA " + scratch);
      statement.execute("CREATE TABLE " + scratch + ".users (LIKE " + schema + ".users INCLUDING ALL)");
      try {
        var now = Instant.now().toString();
        long start = System.nanoTime();
        var copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(
            "COPY " + scratch + ".users (id, email, email_canonical, display_name, create_time, update_time, version)"
                + " FROM STDIN");
        try (var out = new BufferedWriter(new OutputStreamWriter(new PGCopyOutputStream(copy, 65_536),
            StandardCharsets.UTF_8), 65_536)) {
          for (int i = 0; i < count; i++) {
            var email = "copy-" + i + "@example.org";
            out.append(UUID.randomUUID().toString()).append('\t')
                .append(email).append('\t')
                .append(email).append('\t')
                .append("Copy User ").append(Integer.toString(i)).append('\t')
                .append(now).append('\t')
                .append(now).append('\t')
                .append('1').append('\n');
          }
        }
        return new Copied(count, (System.nanoTime() - start) / 1e9);
      } finally {
        statement.execute("DROP SCHEMA " + scratch + " CASCADE");
      }
    }
  }

  /** Reads every stored user, the columns ListUsers sends, in id order, row by row through the driver. */
  Copied copyOut() throws Exception {
    try (var connection = database.connect()) {
      long start = System.nanoTime();
      var copy = connection.unwrap(PGConnection.class).getCopyAPI().copyOut(
          "COPY (SELECT id, email, display_name, create_time, update_time, version FROM " + schema
              + ".users ORDER BY id) TO STDOUT");
      long rows = 0;
      while (copy.readFromCopy() != null) {
        rows++;
      }
      return new Copied(rows, (System.nanoTime() - start) / 1e9);
    }
  }
}
