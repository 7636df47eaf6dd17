package dev.users.bootstrap;

import dev.users.adapter.persistence.PostgresTestDatabase;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import java.util.HashMap;
import java.util.concurrent.TimeUnit;

/**
 * Starts the service on a free loopback port and drives {@link LoadBenchmark} against it. See
 * BENCHMARKS.md for the command and the latest results.
 *
 * <p>Environment: {@code BENCH_STORAGE} ({@code postgres} or {@code memory}, default postgres, in
 * a fresh database that is dropped afterwards), {@code BENCH_USERS} (default 1,000,000), {@code
 * BENCH_SECONDS} per unary phase (default 20), {@code BENCH_CONCURRENCY} (default 32).
 */
public final class BenchmarkMain {

  private BenchmarkMain() {}

  public static void main(String[] args) throws Exception {
    var storage = env("BENCH_STORAGE", "postgres");
    int users = Integer.parseInt(env("BENCH_USERS", "1000000"));
    int seconds = Integer.parseInt(env("BENCH_SECONDS", "20"));
    int concurrency = Integer.parseInt(env("BENCH_CONCURRENCY", "32"));

    var settings = new HashMap<String, String>();
    settings.put("USERS_STORAGE", storage);
    settings.put("USERS_DEFAULT_DEADLINE", "30m");
    settings.put("USERS_STREAM_DEFAULT_DEADLINE", "30m");
    String schema = null;
    if (storage.equals("postgres")) {
      var database = PostgresTestDatabase.get();
      schema = database.newSchemaName();
      settings.putAll(java.util.Map.of(
          "USERS_DB_URL", database.jdbcUrl(), "USERS_DB_USER", database.user(),
          "USERS_DB_PASSWORD", database.password(), "USERS_DB_SCHEMA", schema,
          "USERS_DB_STATEMENT_TIMEOUT", "1m"));
    }
    settings.put("USERS_GRPC_PORT", "0");
    var server = UsersServer.start(Config.from(settings));
    var channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(),
        InsecureChannelCredentials.create()).build();
    try {
      LoadBenchmark.report("setup", "storage %s, %,d users, %d s per unary phase, %d in flight, %d cores, max heap %,d MiB",
          storage, users, seconds, concurrency, Runtime.getRuntime().availableProcessors(),
          Runtime.getRuntime().maxMemory() >> 20);
      var benchmark = new LoadBenchmark(channel);
      // The ceilings run next to the phase they bound, on the same machine in the same run.
      var ceilings = schema == null ? null : new CopyCeilings(
          settings.get("USERS_DB_URL"), settings.get("USERS_DB_USER"), settings.get("USERS_DB_PASSWORD"), schema);
      double copyIn = ceilings == null ? Double.NaN : ceilings.copyIn(users);
      double imported = benchmark.importUsers(users);
      var listed = benchmark.listAll();
      double copyOut = ceilings == null ? Double.NaN : ceilings.copyOut();
      if (ceilings != null) {
        LoadBenchmark.report("ratio", "ImportUsers / COPY in %.2f, ListUsers / COPY out %.2f",
            imported / copyIn, listed.usersPerSecond() / copyOut);
      }
      benchmark.getUsers(listed.sampleIds(), concurrency, seconds);
      benchmark.createUsers(concurrency, seconds);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.stop();
      if (schema != null) {
        PostgresTestDatabase.get().dropSchema(schema);
      }
    }
  }

  private static String env(String name, String fallback) {
    var value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
