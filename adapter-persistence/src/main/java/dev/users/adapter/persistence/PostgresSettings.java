package dev.users.adapter.persistence;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where and how {@link PostgresStorage} connects.
 *
 * @param jdbcUrl a {@code jdbc:postgresql:} URL
 * @param schema the schema that holds the tables, created and migrated on start-up: a lower-case
 *     SQL identifier
 * @param maxPoolSize the most connections open at once
 * @param connectionTimeout the longest a call waits for a connection before storage counts as
 *     unavailable; at least 250 ms, HikariCP's floor
 * @param statementTimeout the longest one SQL statement of a call may run
 */
public record PostgresSettings(
    String jdbcUrl,
    String user,
    String password,
    String schema,
    int maxPoolSize,
    Duration connectionTimeout,
    Duration statementTimeout) {

  private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
  // HikariCP silently replaces a shorter connection timeout with its 30 s default.
  private static final Duration SHORTEST_CONNECTION_TIMEOUT = Duration.ofMillis(250);

  public PostgresSettings {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(schema, "schema");
    Objects.requireNonNull(connectionTimeout, "connectionTimeout");
    Objects.requireNonNull(statementTimeout, "statementTimeout");
    if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException("jdbcUrl must start with jdbc:postgresql:, got " + jdbcUrl);
    }
    if (user.isBlank()) {
      throw new IllegalArgumentException("user must not be blank");
    }
    if (!SCHEMA.matcher(schema).matches()) {
      throw new IllegalArgumentException("schema must be a lower-case SQL identifier, got " + schema);
    }
    if (maxPoolSize < 1) {
      throw new IllegalArgumentException("maxPoolSize must be at least 1, got " + maxPoolSize);
    }
    if (connectionTimeout.compareTo(SHORTEST_CONNECTION_TIMEOUT) < 0) {
      throw new IllegalArgumentException("connectionTimeout must be at least 250ms, got " + connectionTimeout);
    }
    if (statementTimeout.toMillis() < 1) {
      throw new IllegalArgumentException("statementTimeout must be at least 1ms, got " + statementTimeout);
    }
  }

  /** Leaves passwords out, so that logging the settings cannot leak one. */
  @Override
  public String toString() {
    return "PostgresSettings[jdbcUrl=" + displayedUrl() + ", user=" + user + ", password=***, schema=" + schema
        + ", maxPoolSize=" + maxPoolSize + ", connectionTimeout=" + connectionTimeout
        + ", statementTimeout=" + statementTimeout + "]";
  }

  /** The URL without its parameters, which may hold a password. */
  String displayedUrl() {
    int parameters = jdbcUrl.indexOf('?');
    return parameters < 0 ? jdbcUrl : jdbcUrl.substring(0, parameters);
  }
}
