package dev.users.adapter.persistence;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * Whether a schema already holds exactly this build's migrations, read from Flyway's schema
 * history table with one query, so that start-up can leave Flyway out when it would find nothing
 * to do: setting Flyway up took longer than the rest of opening storage (its configuration copies
 * each plugin's settings through Jackson, all of it cold at start-up; BENCHMARKS.md).
 *
 * <p>It answers yes only where Flyway would migrate nothing and refuse nothing: every versioned
 * script of the location applied, successfully, with the checksum Flyway computes from the script
 * as it is now, and no other migration recorded. Anything else (no history table, a migration
 * pending, failed or applied from a script since changed, one this build does not have, a file of
 * the location that is not a plain versioned script, a location it cannot list) is a no, and
 * Flyway runs as it always did: it migrates, or it refuses to start.
 */
final class SchemaHistory {

  /** Flyway's default naming of a versioned SQL migration: V, version, two underscores, description. */
  private static final Pattern VERSIONED_SCRIPT = Pattern.compile("V[0-9][0-9._]*__[^/]+\\.sql");

  /**
   * Flyway's default table; the schema's row for having created the schema is of type SCHEMA. The
   * schema's name is quoted, as Flyway quotes it: a valid name may be a reserved word ("user").
   */
  private static final String HISTORY = "SELECT type, script, checksum, success FROM \"%s\".flyway_schema_history";

  private SchemaHistory() {}

  /** A versioned SQL migration: its script's file name, and Flyway's checksum of its text. */
  record Migration(String script, int checksum) {}

  /**
   * The versioned SQL migrations under {@code path} (as in {@code classpath:path}), in directories
   * and jars on {@code loader}'s class path.
   *
   * @return empty when the location holds anything else or nothing, or is in a kind of class-path
   *     entry this does not list: Flyway, which handles every case, then decides
   */
  static Optional<Set<Migration>> bundled(ClassLoader loader, String path) throws IOException {
    var migrations = new HashSet<Migration>();
    var roots = loader.getResources(path);
    while (roots.hasMoreElements()) {
      var root = roots.nextElement();
      var names = switch (root.getProtocol()) {
        case "file" -> filesIn(root);
        case "jar" -> entriesUnder((JarURLConnection) root.openConnection(), path);
        default -> null;
      };
      if (names == null) {
        return Optional.empty();
      }
      for (var name : names) {
        if (!VERSIONED_SCRIPT.matcher(name).matches()) {
          return Optional.empty();
        }
        try (var text = loader.getResourceAsStream(path + "/" + name)) {
          if (text == null || !migrations.add(new Migration(name, checksum(text)))) {
            return Optional.empty();
          }
        }
      }
    }
    // None found: perhaps a jar without directory entries, which class loaders do not find.
    return migrations.isEmpty() ? Optional.empty() : Optional.of(migrations);
  }

  /**
   * Whether {@code schema}'s history records exactly {@code migrations}, each applied successfully
   * with the same checksum, and nothing else but the creation of the schema.
   *
   * @throws SQLException when the history cannot be read, its table missing included
   */
  static boolean holdsExactly(Connection connection, String schema, Set<Migration> migrations) throws SQLException {
    var applied = new HashSet<Migration>();
    try (var statement = connection.createStatement();
        var rows = statement.executeQuery(HISTORY.formatted(schema))) {
      while (rows.next()) {
        var type = rows.getString("type");
        if ("SCHEMA".equals(type)) {
          continue;
        }
        int checksum = rows.getInt("checksum");
        if (!"SQL".equals(type) || rows.wasNull() || !rows.getBoolean("success")
            || !applied.add(new Migration(rows.getString("script"), checksum))) {
          return false;
        }
      }
    }
    return applied.equals(migrations);
  }

  /**
   * Flyway's checksum of a script: CRC-32 over its lines read as UTF-8, without their line
   * endings, each without a leading byte-order mark.
   */
  static int checksum(InputStream text) throws IOException {
    var crc = new CRC32();
    var lines = new BufferedReader(new InputStreamReader(text, StandardCharsets.UTF_8));
    for (var line = lines.readLine(); line != null; line = lines.readLine()) {
      if (!line.isEmpty() && line.charAt(0) == '\uFEFF') {
        line = line.substring(1);
      }
      crc.update(line.getBytes(StandardCharsets.UTF_8));
    }
    return (int) crc.getValue();
  }

  /** The names in {@code directory}; null when it is not one this can list. */
  private static List<String> filesIn(URL directory) throws IOException {
    try (var files = Files.list(Path.of(directory.toURI()))) {
      return files.map(file -> file.getFileName().toString()).toList();
    } catch (URISyntaxException | IllegalArgumentException e) {
      return null;
    }
  }

  /** The names of the entries directly under {@code path} in a jar; null when it has subdirectories. */
  private static List<String> entriesUnder(JarURLConnection connection, String path) throws IOException {
    // A jar of its own, closed here: a cached one is shared with whoever else opened the file.
    connection.setUseCaches(false);
    var prefix = path + "/";
    var names = new ArrayList<String>();
    try (var jar = connection.getJarFile()) {
      var entries = jar.entries();
      while (entries.hasMoreElements()) {
        var name = entries.nextElement().getName();
        if (name.startsWith(prefix) && name.length() > prefix.length()) {
          var rest = name.substring(prefix.length());
          // A directory under the location would be scanned by Flyway, and is left to it.
          if (rest.contains("/")) {
            return null;
          }
          names.add(rest);
        }
      }
    }
    return names;
  }
}
