package dev.users.bootstrap;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
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

  private final String jdbcUrl;
  private final String user;
  private final String password;
  private final String schema;

  /** @param schema the service's schema, holding its {@code users} table */
  CopyCeilings(String jdbcUrl, String user, String password, String schema) {
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
    this.schema = schema;
  }

  /**
   * Copies {@code count} rows like the ones ImportUsers stores (random id, email, canonical email,
   * name, timestamps, version) in text format into a fresh copy of {@code users} with all its
   * indexes and constraints, in a scratch schema dropped afterwards.
   *
   * @return rows per second
   */
  double copyIn(int count) throws Exception {
    var scratch = schema + "_copy";
    try (var connection = connect(); var statement = connection.createStatement()) {
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
        double seconds = (System.nanoTime() - start) / 1e9;
        LoadBenchmark.report("COPY in", "%,d rows in %.1f s: %,.0f rows/s (ceiling of ImportUsers)",
            count, seconds, count / seconds);
        return count / seconds;
      } finally {
        statement.execute("DROP SCHEMA " + scratch + " CASCADE");
      }
    }
  }

  /**
   * Reads every stored user, the columns ListUsers sends, in id order, row by row through the
   * driver's copy API.
   *
   * @return rows per second
   */
  double copyOut() throws Exception {
    try (var connection = connect()) {
      long start = System.nanoTime();
      var copy = connection.unwrap(PGConnection.class).getCopyAPI().copyOut(
          "COPY (SELECT id, email, display_name, create_time, update_time, version FROM " + schema
              + ".users ORDER BY id) TO STDOUT");
      long rows = 0;
      while (copy.readFromCopy() != null) {
        rows++;
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      LoadBenchmark.report("COPY out", "%,d rows in %.1f s: %,.0f rows/s (ceiling of ListUsers)",
          rows, seconds, rows / seconds);
      return rows / seconds;
    }
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl, user, password);
  }
}
