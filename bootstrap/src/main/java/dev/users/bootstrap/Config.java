package dev.users.bootstrap;

import dev.users.adapter.grpc.DeadlinePolicy;
import dev.users.adapter.grpc.RateLimit;
import dev.users.adapter.grpc.ImportLimits;
import dev.users.adapter.grpc.JwksFile;
import dev.users.adapter.persistence.PostgresSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Everything the service can be told, read once from environment variables and validated before
 * anything starts. A bad value stops start-up with a {@link ConfigException} naming the variable.
 *
 * <p>The variables, their defaults and meanings are listed in the README; {@link #VARIABLES} is
 * the same list in code.
 */
record Config(
    int grpcPort,
    StorageKind storage,
    PostgresSettings postgres,
    Environment environment,
    Duration shutdownGrace,
    Duration shutdownDrain,
    DeadlinePolicy deadlines,
    Optional<Tls> tls,
    Limits limits,
    Optional<RateLimit> rateLimit,
    Connections connections,
    int eventLoopThreads,
    ImportLimits imports,
    Auth auth,
    Optional<Integer> healthPort,
    Optional<Integer> metricsPort,
    Logs logs) {

  enum StorageKind { POSTGRES, MEMORY }

  enum Environment { DEVELOPMENT, PRODUCTION }

  /** How the service logs: see {@link Logging}. */
  record Logs(LogFormat format, LogLevel level) {}

  /** One line of text per event, or one JSON object per line. */
  enum LogFormat { TEXT, JSON }

  /** The root logger's level; a few libraries keep their own (see {@link Logging}). */
  enum LogLevel { TRACE, DEBUG, INFO, WARN, ERROR, OFF }

  /**
   * The server's certificate chain and private key, and which client certificates it asks for;
   * every file is PEM and is read again every {@code reloadInterval}.
   *
   * @param clientCas the CAs trusted to issue client certificates; present exactly when
   *     {@code clientAuth} is not {@link ClientAuth#NONE}
   */
  record Tls(Path certificateChain, Path privateKey, ClientAuth clientAuth, Optional<Path> clientCas,
      Duration reloadInterval) {}

  /** Whether a client must, may or need not present a certificate issued by a trusted CA. */
  enum ClientAuth { NONE, OPTIONAL, REQUIRE }

  /** How callers prove who they are. */
  sealed interface Auth {

    /** Nobody is authenticated: every caller is an administrator. */
    record None() implements Auth {}

    /**
     * Bearer JWTs signed by a key of the JWKS file, re-read every {@code reloadInterval}.
     *
     * @param issuer the {@code iss} tokens must have
     * @param audience what the {@code aud} of tokens must include
     */
    record Jwt(Path jwksFile, String issuer, String audience, Duration reloadInterval) implements Auth {}
  }

  private enum AuthKind { NONE, JWT }

  /** Per-connection bounds that keep one client from exhausting the server. */
  /**
   * @param maxUnaryCallsInFlight unary users-API calls the service runs or has waiting at once;
   *     one more is refused at once with UNAVAILABLE instead of waiting for a connection in vain
   */
  record Limits(
      int maxInboundMessageBytes,
      int maxConcurrentCallsPerConnection,
      Duration maxConnectionAge,
      int maxUnaryCallsInFlight) {}

  /**
   * HTTP/2 connection hardening.
   *
   * @param maxRstFramesPerWindow RST_STREAM frames one connection may carry per window before the
   *     server closes it (GOAWAY ENHANCE_YOUR_CALM): the defence against rapid reset
   *     (CVE-2023-44487), where a client opens and cancels streams faster than the server can
   *     tear them down
   * @param rstFramesWindow that window, in whole seconds
   * @param maxConnectionIdle how long a connection with no call open is kept before the server
   *     closes it (GOAWAY), so idle clients do not hold sockets and memory for ever
   * @param handshakeTimeout how long a new connection has to complete its TLS handshake and
   *     HTTP/2 preface; one that is silent longer is closed
   */
  record Connections(
      int maxRstFramesPerWindow, Duration rstFramesWindow, Duration maxConnectionIdle, Duration handshakeTimeout) {}

  static final Map<String, String> VARIABLES = Map.ofEntries(
      Map.entry("USERS_GRPC_PORT", "50051"),
      Map.entry("USERS_STORAGE", "postgres"),
      Map.entry("USERS_DB_URL", "jdbc:postgresql://127.0.0.1:5432/postgres"),
      Map.entry("USERS_DB_USER", "postgres"),
      Map.entry("USERS_DB_PASSWORD", ""),
      Map.entry("USERS_DB_SCHEMA", "users"),
      Map.entry("USERS_DB_POOL_SIZE", "10"),
      Map.entry("USERS_DB_CONNECTION_TIMEOUT", "1s"),
      Map.entry("USERS_DB_STATEMENT_TIMEOUT", "5s"),
      Map.entry("USERS_ENV", "development"),
      Map.entry("USERS_SHUTDOWN_GRACE", "10s"),
      Map.entry("USERS_SHUTDOWN_DRAIN", "0s"),
      Map.entry("USERS_DEFAULT_DEADLINE", "10s"),
      Map.entry("USERS_STREAM_DEFAULT_DEADLINE", "10m"),
      Map.entry("USERS_MAX_DEADLINE", ""),
      Map.entry("USERS_REQUIRE_DEADLINE", "false"),
      Map.entry("USERS_TLS_CERT_FILE", ""),
      Map.entry("USERS_TLS_KEY_FILE", ""),
      Map.entry("USERS_TLS_CLIENT_CA_FILE", ""),
      Map.entry("USERS_TLS_CLIENT_AUTH", "none"),
      Map.entry("USERS_TLS_RELOAD_INTERVAL", "1m"),
      Map.entry("USERS_ALLOW_PLAINTEXT", "false"),
      Map.entry("USERS_MAX_MESSAGE_BYTES", "1048576"),
      Map.entry("USERS_MAX_CONCURRENT_CALLS_PER_CONNECTION", "100"),
      Map.entry("USERS_MAX_UNARY_CALLS_IN_FLIGHT", "256"),
      Map.entry("USERS_MAX_CONNECTION_AGE", "30m"),
      Map.entry("USERS_RATE_LIMIT", ""),
      Map.entry("USERS_MAX_RST_FRAMES_PER_WINDOW", "200"),
      Map.entry("USERS_RST_FRAMES_WINDOW", "30s"),
      Map.entry("USERS_MAX_CONNECTION_IDLE", "5m"),
      Map.entry("USERS_HANDSHAKE_TIMEOUT", "10s"),
      // Empty: half the processors the JVM sees, at least one.
      Map.entry("USERS_EVENT_LOOP_THREADS", ""),
      Map.entry("USERS_IMPORT_MAX_ITEMS", "1000000"),
      Map.entry("USERS_IMPORT_MAX_DURATION", "10m"),
      // Empty: jwt in production, none in development.
      Map.entry("USERS_AUTH", ""),
      Map.entry("USERS_AUTH_JWKS_FILE", ""),
      Map.entry("USERS_AUTH_ISSUER", ""),
      Map.entry("USERS_AUTH_AUDIENCE", ""),
      Map.entry("USERS_AUTH_JWKS_RELOAD_INTERVAL", "1m"),
      Map.entry("USERS_LOG_FORMAT", "text"),
      Map.entry("USERS_LOG_LEVEL", "info"),
      // Empty: health is served on the gRPC port only.
      Map.entry("USERS_HEALTH_PORT", ""),
      // Empty: no metrics endpoint.
      Map.entry("USERS_METRICS_PORT", ""));

  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h)");
  private static final Pattern RATE = Pattern.compile("(\\d{1,9})/(s|m)");
  private static final int MAX_RATE = 1_000_000;
  private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  /** Reads the configuration from {@code env}, applying defaults for what is unset or empty. */
  static Config from(Map<String, String> env) {
    var read = new Reader(env);
    var schema = read.string("USERS_DB_SCHEMA");
    if (!SCHEMA.matcher(schema).matches()) {
      throw new ConfigException("USERS_DB_SCHEMA",
          "must be a lower-case SQL identifier (letters, digits, _; at most 63), got \"" + schema + "\"");
    }
    var url = read.string("USERS_DB_URL");
    if (!url.startsWith("jdbc:postgresql://")) {
      throw new ConfigException("USERS_DB_URL", "must start with jdbc:postgresql://, got \"" + url + "\"");
    }
    var postgres = new PostgresSettings(
        url,
        read.string("USERS_DB_USER"),
        read.string("USERS_DB_PASSWORD"),
        schema,
        read.integer("USERS_DB_POOL_SIZE", 1, 1_000),
        read.duration("USERS_DB_CONNECTION_TIMEOUT", Duration.ofMillis(250), Duration.ofMinutes(1)),
        read.duration("USERS_DB_STATEMENT_TIMEOUT", Duration.ofMillis(100), Duration.ofHours(1)));
    var environment = read.choice("USERS_ENV", Environment.class);
    return new Config(
        read.integer("USERS_GRPC_PORT", 0, 65_535),
        read.choice("USERS_STORAGE", StorageKind.class),
        postgres,
        environment,
        read.duration("USERS_SHUTDOWN_GRACE", Duration.ZERO, Duration.ofHours(1)),
        read.duration("USERS_SHUTDOWN_DRAIN", Duration.ZERO, Duration.ofMinutes(5)),
        new DeadlinePolicy(
            read.duration("USERS_DEFAULT_DEADLINE", Duration.ofMillis(100), Duration.ofHours(1)),
            read.duration("USERS_STREAM_DEFAULT_DEADLINE", Duration.ofMillis(100), Duration.ofDays(1)),
            read.optionalDuration("USERS_MAX_DEADLINE", Duration.ofMillis(100), Duration.ofDays(1)),
            read.bool("USERS_REQUIRE_DEADLINE")),
        read.tls(),
        new Limits(
            read.integer("USERS_MAX_MESSAGE_BYTES", 1_024, 64 * 1_024 * 1_024),
            read.integer("USERS_MAX_CONCURRENT_CALLS_PER_CONNECTION", 1, 100_000),
            read.duration("USERS_MAX_CONNECTION_AGE", Duration.ofSeconds(1), Duration.ofDays(30)),
            read.integer("USERS_MAX_UNARY_CALLS_IN_FLIGHT", 1, 100_000)),
        read.rateLimit("USERS_RATE_LIMIT"),
        new Connections(
            read.integer("USERS_MAX_RST_FRAMES_PER_WINDOW", 1, 1_000_000),
            read.wholeSeconds("USERS_RST_FRAMES_WINDOW", Duration.ofSeconds(1), Duration.ofHours(1)),
            read.duration("USERS_MAX_CONNECTION_IDLE", Duration.ofSeconds(1), Duration.ofDays(30)),
            read.duration("USERS_HANDSHAKE_TIMEOUT", Duration.ofMillis(100), Duration.ofMinutes(5))),
        read.optionalInteger("USERS_EVENT_LOOP_THREADS", 1, 1_024)
            .orElse(Math.max(1, Runtime.getRuntime().availableProcessors() / 2)),
        new ImportLimits(
            read.integer("USERS_IMPORT_MAX_ITEMS", 1, 1_000_000_000),
            read.duration("USERS_IMPORT_MAX_DURATION", Duration.ofSeconds(1), Duration.ofDays(1))),
        read.auth(environment),
        read.optionalInteger("USERS_HEALTH_PORT", 0, 65_535),
        read.optionalInteger("USERS_METRICS_PORT", 0, 65_535),
        new Logs(read.choice("USERS_LOG_FORMAT", LogFormat.class), read.choice("USERS_LOG_LEVEL", LogLevel.class)));
  }

  /** Reads one variable at a time, so that every error names the variable it is about. */
  private record Reader(Map<String, String> env) {

    String string(String name) {
      var value = env.get(name);
      return value == null || value.isBlank() ? VARIABLES.get(name) : value.strip();
    }

    int integer(String name, int min, int max) {
      return parse(name, "an integer from " + min + " to " + max, text -> {
        int value = Integer.parseInt(text);
        return value >= min && value <= max ? value : null;
      });
    }

    Duration duration(String name, Duration min, Duration max) {
      return parse(name, "a duration such as 500ms, 10s, 5m or 1h, from " + format(min) + " to " + format(max),
          text -> {
            var matcher = DURATION.matcher(text);
            if (!matcher.matches()) {
              return null;
            }
            long amount = Long.parseLong(matcher.group(1));
            var value = switch (matcher.group(2)) {
              case "ms" -> Duration.ofMillis(amount);
              case "s" -> Duration.ofSeconds(amount);
              case "m" -> Duration.ofMinutes(amount);
              default -> Duration.ofHours(amount);
            };
            return value.compareTo(min) >= 0 && value.compareTo(max) <= 0 ? value : null;
          });
    }

    /** A duration the consumer takes in whole seconds. */
    Duration wholeSeconds(String name, Duration min, Duration max) {
      var value = duration(name, min, max);
      if (value.toMillis() % 1_000 != 0) {
        throw new ConfigException(name, "must be a whole number of seconds, got \"" + string(name) + "\"");
      }
      return value;
    }

    /** Empty when the variable is unset or empty, which has no default. */
    Optional<Integer> optionalInteger(String name, int min, int max) {
      return string(name).isEmpty() ? Optional.empty() : Optional.of(integer(name, min, max));
    }

    Optional<Duration> optionalDuration(String name, Duration min, Duration max) {
      return string(name).isEmpty() ? Optional.empty() : Optional.of(duration(name, min, max));
    }

    /** Empty when the variable is unset or empty: no limit. */
    Optional<RateLimit> rateLimit(String name) {
      if (string(name).isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(parse(name,
          "a number of calls per second or per minute such as 200/s or 6000/m, from 1 to " + MAX_RATE
              + ", or empty for no limit",
          text -> {
            var matcher = RATE.matcher(text);
            if (!matcher.matches()) {
              return null;
            }
            int calls = Integer.parseInt(matcher.group(1));
            var period = matcher.group(2).equals("s") ? Duration.ofSeconds(1) : Duration.ofMinutes(1);
            return calls >= 1 && calls <= MAX_RATE ? new RateLimit(calls, period) : null;
          }));
    }

    boolean bool(String name) {
      return parse(name, "true or false", text -> switch (text) {
        case "true" -> true;
        case "false" -> false;
        default -> null;
      });
    }

    <E extends Enum<E>> E choice(String name, Class<E> type) {
      var names = java.util.Arrays.stream(type.getEnumConstants())
          .map(e -> e.name().toLowerCase(Locale.ROOT))
          .toList();
      // In any case: USERS_LOG_LEVEL=INFO reads as logback's own levels are written.
      return parse(name, "one of " + String.join(", ", names), text -> names.contains(text.toLowerCase(Locale.ROOT))
          ? Enum.valueOf(type, text.toUpperCase(Locale.ROOT))
          : null);
    }

    Optional<Tls> tls() {
      var cert = string("USERS_TLS_CERT_FILE");
      var key = string("USERS_TLS_KEY_FILE");
      var clientAuth = choice("USERS_TLS_CLIENT_AUTH", ClientAuth.class);
      var clientCas = string("USERS_TLS_CLIENT_CA_FILE");
      var reloadInterval = duration("USERS_TLS_RELOAD_INTERVAL", Duration.ofMillis(100), Duration.ofDays(1));
      var allowPlaintext = bool("USERS_ALLOW_PLAINTEXT");
      if (cert.isEmpty() && key.isEmpty()) {
        if (clientAuth != ClientAuth.NONE || !clientCas.isEmpty()) {
          throw new ConfigException("USERS_TLS_CERT_FILE",
              "must be set (with USERS_TLS_KEY_FILE): client certificates need TLS");
        }
        // A sidecar or mesh in front may terminate TLS; without one, production would expose
        // personal data and credentials in clear text.
        if (choice("USERS_ENV", Environment.class) == Environment.PRODUCTION && !allowPlaintext) {
          throw new ConfigException("USERS_TLS_CERT_FILE", "must be set in production (with USERS_TLS_KEY_FILE),"
              + " or USERS_ALLOW_PLAINTEXT=true when a sidecar or mesh terminates TLS in front of the service");
        }
        return Optional.empty();
      }
      if (cert.isEmpty() || key.isEmpty()) {
        var missing = cert.isEmpty() ? "USERS_TLS_CERT_FILE" : "USERS_TLS_KEY_FILE";
        throw new ConfigException(missing, "must be set too: TLS needs both a certificate chain and a private key");
      }
      if (clientAuth == ClientAuth.NONE && !clientCas.isEmpty()) {
        throw new ConfigException("USERS_TLS_CLIENT_AUTH",
            "must be optional or require when USERS_TLS_CLIENT_CA_FILE is set, got \"none\"");
      }
      if (clientAuth != ClientAuth.NONE && clientCas.isEmpty()) {
        throw new ConfigException("USERS_TLS_CLIENT_CA_FILE", "must be set when USERS_TLS_CLIENT_AUTH is "
            + clientAuth.name().toLowerCase(Locale.ROOT) + ": it names the CAs trusted to issue client certificates");
      }
      return Optional.of(TlsFiles.check(new Tls(
          readableFile("USERS_TLS_CERT_FILE", cert),
          readableFile("USERS_TLS_KEY_FILE", key),
          clientAuth,
          clientCas.isEmpty() ? Optional.empty() : Optional.of(readableFile("USERS_TLS_CLIENT_CA_FILE", clientCas)),
          reloadInterval)));
    }

    Auth auth(Environment environment) {
      var kind = string("USERS_AUTH").isEmpty()
          ? (environment == Environment.PRODUCTION ? AuthKind.JWT : AuthKind.NONE)
          : choice("USERS_AUTH", AuthKind.class);
      if (kind == AuthKind.NONE) {
        return new Auth.None();
      }
      var jwks = readableFile("USERS_AUTH_JWKS_FILE", required("USERS_AUTH_JWKS_FILE"));
      try {
        JwksFile.load(jwks);
      } catch (IOException e) {
        throw new ConfigException("USERS_AUTH_JWKS_FILE", "must name a JWKS file, but \"" + jwks + "\" " + e.getMessage());
      }
      return new Auth.Jwt(jwks, required("USERS_AUTH_ISSUER"), required("USERS_AUTH_AUDIENCE"),
          duration("USERS_AUTH_JWKS_RELOAD_INTERVAL", Duration.ofSeconds(1), Duration.ofDays(1)));
    }

    private String required(String name) {
      var value = string(name);
      if (value.isEmpty()) {
        throw new ConfigException(name, "must be set when USERS_AUTH is jwt (its default in production)");
      }
      return value;
    }

    private static Path readableFile(String name, String text) {
      var path = Path.of(text);
      if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
        throw new ConfigException(name, "must name a readable file, got \"" + text + "\"");
      }
      return path;
    }

    private <T> T parse(String name, String expected, Function<String, T> parser) {
      var text = string(name);
      T value;
      try {
        value = parser.apply(text);
      } catch (NumberFormatException e) {
        value = null;
      }
      if (value == null) {
        throw new ConfigException(name, "must be " + expected + ", got \"" + text + "\"");
      }
      return value;
    }

    private static String format(Duration duration) {
      return duration.toMillis() % 1_000 != 0 ? duration.toMillis() + "ms" : duration.toSeconds() + "s";
    }
  }
}
