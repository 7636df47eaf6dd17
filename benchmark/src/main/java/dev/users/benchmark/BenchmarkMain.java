package dev.users.benchmark;

import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.benchmarks.proto.BenchmarkServiceGrpc;
import io.grpc.benchmarks.proto.Messages.SimpleRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * One run of the benchmark: the packaged service as its launcher runs it, raw grpc-java, and the
 * database's own ceilings, driven by one load generator in interleaved rounds; every figure is
 * printed with its ratio to its ceiling and its target (issue 9). See BENCHMARKS.md.
 *
 * <p>Exits 1 when a call failed, 2 when a server or tool could not start, 0 otherwise: never
 * because of a timing.
 */
public final class BenchmarkMain {

  private static final int CONNECTIONS = 4;
  private static final int CALLS_PER_CONNECTION = 16;
  private static final String SCHEMA = "users";

  /** A warm-up ends once the JIT compilers use less than this share of the server's CPU time. */
  private static final double SETTLED_COMPILER_SHARE = 0.02;

  private final Settings settings;
  private final Path root;
  private final Path target;
  private final String java21;
  private final String run = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
  private final AtomicLong failedCalls = new AtomicLong();
  private final Report report = new Report();

  private BenchmarkMain(Settings settings, Path root, Path target) {
    this.settings = settings;
    this.root = root;
    this.target = target;
    this.java21 = root.resolve("bin/java21").toString();
  }

  public static void main(String[] args) throws Exception {
    var root = Path.of(System.getProperty("benchmark.root", ".")).toRealPath();
    var target = Path.of(System.getProperty("benchmark.target", "target")).toAbsolutePath();
    Files.createDirectories(target);
    int exit;
    try {
      exit = new BenchmarkMain(Settings.fromEnvironment(), root, target).run();
    } catch (ServerProcess.ChildFailedException e) {
      System.out.println("FAILED: " + e.getMessage());
      exit = 2;
    }
    System.exit(exit);
  }

  /** The environment's BENCH_* settings. */
  record Settings(String storage, int users, int lookupUsers, int seconds, int warmUpSeconds, int warmUpMaxSeconds,
      int rounds, int starts, String dbUrl, String dbUser, String dbPassword) {

    static Settings fromEnvironment() {
      return new Settings(env("BENCH_STORAGE", "postgres"), Integer.parseInt(env("BENCH_USERS", "1000000")),
          Integer.parseInt(env("BENCH_LOOKUP_USERS", "10000")), Integer.parseInt(env("BENCH_SECONDS", "10")),
          Integer.parseInt(env("BENCH_WARMUP_SECONDS", env("BENCH_SECONDS", "10"))),
          Integer.parseInt(env("BENCH_WARMUP_MAX_SECONDS", "60")),
          Integer.parseInt(env("BENCH_ROUNDS", "3")), Integer.parseInt(env("BENCH_STARTS", "3")),
          env("BENCH_DB_URL", "jdbc:postgresql://127.0.0.1:5432/postgres"), env("BENCH_DB_USER", "postgres"),
          env("BENCH_DB_PASSWORD", ""));
    }

    boolean postgres() {
      return storage.equals("postgres");
    }

    private static String env(String name, String fallback) {
      var value = System.getenv(name);
      return value == null || value.isBlank() ? fallback : value;
    }
  }

  private int run() throws Exception {
    var launcher = root.resolve("bin/users-service");
    var jar = root.resolve("bootstrap/target/users-service.jar");
    if (!Files.isExecutable(launcher) || !Files.isRegularFile(jar)) {
      throw new ServerProcess.ChildFailedException("the service cannot start: " + launcher + " (executable) and "
          + jar + " (`mvn -DskipTests verify` builds it) are both needed");
    }
    Report.line("setup", "BENCH_STORAGE=%s BENCH_USERS=%,d BENCH_LOOKUP_USERS=%,d BENCH_SECONDS=%d"
            + " BENCH_WARMUP_SECONDS=%d BENCH_WARMUP_MAX_SECONDS=%d BENCH_ROUNDS=%d BENCH_STARTS=%d", settings.storage(),
        settings.users(), settings.lookupUsers(), settings.seconds(), settings.warmUpSeconds(),
        settings.warmUpMaxSeconds(), settings.rounds(), settings.starts());
    Report.line("setup", "%d cores, load generator on %s %s, %d connections x %d calls in flight",
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name"),
        System.getProperty("java.version"), CONNECTIONS, CALLS_PER_CONNECTION);
    if (!settings.postgres() && !settings.storage().equals("memory")) {
      throw new IllegalArgumentException("BENCH_STORAGE must be postgres or memory, got " + settings.storage());
    }
    try (var database = settings.postgres()
        ? ScratchDatabase.create(settings.dbUrl(), settings.dbUser(), settings.dbPassword()) : null) {
      var postgresCpu = database == null ? null : PostgresCpu.find(database.name()).orElse(null);
      var pgbench = database != null && Pgbench.installed() ? new Pgbench(database, target) : null;
      if (database != null) {
        Report.line("setup", "scratch database %s on %s:%d (dropped at the end), PostgreSQL CPU from %s",
            database.name(), database.host(), database.port(),
            postgresCpu == null ? "nowhere: no postmaster visible in /proc" : "/proc, postmaster pid " + postgresCpu.postmasterPid());
      }
      if (pgbench != null) {
        pgbench.initialise();
        Report.line("setup", "pgbench -i -s 1 into %s: 100,000 accounts", database.name());
      } else {
        Report.line("setup", "no pgbench ceiling: %s", database == null ? "storage is memory" : "pgbench is not installed");
      }
      return new Run(database, postgresCpu, pgbench).execute();
    }
  }

  /** The phases of one run, against one database. */
  private final class Run {

    private final ScratchDatabase database;
    private final PostgresCpu postgresCpu;
    private final Pgbench pgbench;

    Run(ScratchDatabase database, PostgresCpu postgresCpu, Pgbench pgbench) {
      this.database = database;
      this.postgresCpu = postgresCpu;
      this.pgbench = pgbench;
    }

    int execute() throws Exception {
      int port = ServerProcess.freePort();
      var environment = serviceEnvironment(port);
      environment.forEach((name, value) -> Report.line("service setting", "%s=%s", name,
          name.equals("USERS_DB_PASSWORD") && !value.isEmpty() ? "(set)" : value));
      Report.line("service launch", "%s, JAVA_OPTS %s, log %s", root.resolve("bin/users-service"),
          System.getenv("JAVA_OPTS") == null ? "not set (the launcher's own options)" : "\"" + System.getenv("JAVA_OPTS") + "\"",
          target.resolve("users-service-<start>.log"));

      var startMillis = new ArrayList<Double>();
      var idleKib = new ArrayList<Double>();
      for (int i = 1; i < settings.starts(); i++) {
        startTimed(i, environment, port, startMillis, idleKib).close();
      }
      var service = startTimed(settings.starts(), environment, port, startMillis, idleKib);
      Report.line("service JVM", "%s", ProcStat.commandLine(service.pid()).orElse("(exited)"));
      double startMedian = Stats.median(startMillis);
      double idleMib = Stats.median(idleKib) / 1024;
      Report.line("start-up median", "%.0f ms to SERVING, idle RSS %.0f MiB", startMedian, idleMib);

      int rawPort = ServerProcess.freePort();
      try (service;
          var raw = ServerProcess.rawGrpc(java21, rawPort, target.resolve("async-server.log"));
          var toService = new LoadGenerator(service.port(), CONNECTIONS);
          var toRaw = new LoadGenerator(raw.port(), CONNECTIONS)) {
        Report.line("raw grpc-java", "io.grpc.benchmarks.qps.AsyncServer --address=127.0.0.1:%d --transport=netty_nio"
            + " on %s (pid %d), log %s", raw.port(), java21, raw.pid(), raw.log());
        return new Phases(service, raw, toService, toRaw).execute(startMedian, idleMib);
      }
    }

    /** Starts the service, and records its time to SERVING and its RSS 2 s later. */
    private ServerProcess startTimed(int i, Map<String, String> environment, int port, List<Double> startMillis,
        List<Double> idleKib) throws Exception {
      var started = ServerProcess.service(root, environment, port, target.resolve("users-service-" + i + ".log"));
      Thread.sleep(2_000);
      long idle = started.residentKib();
      startMillis.add(started.startMillis());
      idleKib.add((double) idle);
      Report.line("start-up " + i + "/" + settings.starts(), "%.0f ms from spawning the launcher to SERVING, RSS %.0f MiB"
          + " idle 2 s later (pid %d)", started.startMillis(), idle / 1024.0, started.pid());
      return started;
    }

    private Map<String, String> serviceEnvironment(int port) {
      var environment = new LinkedHashMap<String, String>();
      environment.put("USERS_GRPC_PORT", Integer.toString(port));
      environment.put("USERS_STORAGE", settings.storage());
      if (database != null) {
        environment.put("USERS_DB_URL", database.jdbcUrl());
        environment.put("USERS_DB_USER", database.user());
        environment.put("USERS_DB_PASSWORD", database.password());
        environment.put("USERS_DB_SCHEMA", SCHEMA);
      }
      if (settings.users() > 1_000_000) {
        // The default cap of one ImportUsers call; larger runs raise it, and only then.
        environment.put("USERS_IMPORT_MAX_ITEMS", Integer.toString(settings.users()));
      }
      return environment;
    }

    /** The measured phases, with the servers running. */
    private final class Phases {

      private final ServerProcess service;
      private final ServerProcess raw;
      private final LoadGenerator toService;
      private final LoadGenerator toRaw;

      Phases(ServerProcess service, ServerProcess raw, LoadGenerator toService, LoadGenerator toRaw) {
        this.service = service;
        this.raw = raw;
        this.toService = toService;
        this.toRaw = toRaw;
      }

      int execute(double startMedian, double idleMib) throws Exception {
        var imported = toService.importUsers("lookup-" + run, settings.lookupUsers());
        var ids = toService.listUsers(settings.lookupUsers()).ids();
        Report.line("lookup users", "%,d imported (%,d rejected), %,d ids for GetUser", imported.created(),
            imported.rejected(), ids.size());
        var getRequests = ids.stream().map(id -> GetUserRequest.newBuilder().setId(id).build())
            .toArray(GetUserRequest[]::new);
        var getUser = new Target<>(service, toService, UserServiceGrpc.getGetUserMethod(),
            i -> getRequests[ThreadLocalRandom.current().nextInt(getRequests.length)]);
        var rawCall = new Target<>(raw, toRaw, BenchmarkServiceGrpc.getUnaryCallMethod(),
            i -> SimpleRequest.getDefaultInstance());

        // Before the rounds, so that they measure the call paths compiled, not the JIT compiling them.
        warmUp("raw grpc-java 64", rawCall);
        warmUp("GetUser 64", getUser);

        var rounds = new ArrayList<Round>();
        for (int r = 1; r <= settings.rounds(); r++) {
          var label = "round " + r + "/" + settings.rounds();
          var raw64 = print(label, "raw grpc-java 64", rawCall.run(CONNECTIONS, CALLS_PER_CONNECTION, settings.seconds()));
          var pg64 = pgbench(label, 64, 2);
          var get64 = print(label, "GetUser 64", getUser.run(CONNECTIONS, CALLS_PER_CONNECTION, settings.seconds()));
          var raw1 = print(label, "raw grpc-java 1", rawCall.run(1, 1, settings.seconds()));
          var pg1 = pgbench(label, 1, 1);
          var get1 = print(label, "GetUser 1", getUser.run(1, 1, settings.seconds()));
          rounds.add(new Round(raw64, pg64, get64, raw1, pg1, get1));
        }
        double busyMib = service.residentKib() / 1024.0;
        Report.line("RSS after GetUser", "%.0f MiB", busyMib);

        // Numbered across the warm-up and the measurement, so that no email is sent twice.
        var created = new AtomicInteger();
        var createUser = new Target<>(service, toService, UserServiceGrpc.getCreateUserMethod(), i -> {
          int n = created.getAndIncrement();
          return CreateUserRequest.newBuilder().setEmail("create-" + run + "-" + n + "@example.org")
              .setDisplayName("Load User " + n).build();
        });
        warmUp("CreateUser 64", createUser);
        // As many phases as GetUser has rounds, and their median: one phase of 10 s gave 70 to 92 us
        // per call for the same tree on this machine.
        var creates = new ArrayList<Measured>();
        for (int r = 1; r <= settings.rounds(); r++) {
          creates.add(print("round " + r + "/" + settings.rounds(), "CreateUser 64",
              createUser.run(CONNECTIONS, CALLS_PER_CONNECTION, settings.seconds())));
        }

        var bulk = new Bulk(service, toService, database == null ? null : new CopyCeilings(database, SCHEMA),
            postgresCpu, settings.users(), settings.rounds(), run, target).execute();

        var heapOptions = ProcStat.commandLine(service.pid()).stream()
            .flatMap(command -> List.of(command.split(" ")).stream())
            .filter(option -> option.startsWith("-Xmx") || option.startsWith("-XX:MaxHeapSize")
                || option.startsWith("-XX:MaxRAMPercentage"))
            .toList();
        summarise(rounds, creates, bulk, startMedian, idleMib, busyMib,
            heapOptions.isEmpty() ? "no heap limit given" : String.join(" ", heapOptions));
        if (failedCalls.get() > 0) {
          System.out.printf("FAILED: %,d calls failed%n", failedCalls.get());
          return 1;
        }
        return 0;
      }
    }

    private Pgbench.Result pgbench(String label, int clients, int threads) throws Exception {
      if (pgbench == null) {
        return null;
      }
      var phase = postgresCpu == null ? null : postgresCpu.start();
      var result = pgbench.selectOnly(clients, threads, settings.seconds());
      var ticks = phase == null ? null : phase.stop();
      failedCalls.addAndGet(result.failed());
      Report.line(label, "pgbench -c %-2d  %,8.0f tps, latency average %.3f ms, %d failed%s", clients, result.tps(),
          result.latencyMillis(), result.failed(), ticks == null ? ""
              : String.format(Locale.ROOT, ", PostgreSQL CPU %.1f us/tx (this database %.1f)",
                  perCall(ticks.all(), result.transactions()), perCall(ticks.ownDatabase(), result.transactions())));
      return result;
    }

    /** A unary method of a server, with the CPU it and PostgreSQL spend per call. */
    private final class Target<Q, R> {

      private final ServerProcess server;
      private final LoadGenerator load;
      private final MethodDescriptor<Q, R> method;
      private final IntFunction<Q> request;

      Target(ServerProcess server, LoadGenerator load, MethodDescriptor<Q, R> method,
          IntFunction<Q> request) {
        this.server = server;
        this.load = load;
        this.method = method;
        this.request = request;
      }

      Measured run(int connections, int perConnection, double seconds) throws Exception {
        return measure(server, postgresCpu, () -> load.closedLoop(method, request, connections, perConnection, seconds));
      }
    }

    /**
     * Runs {@code target} with 64 calls in flight, {@code BENCH_WARMUP_SECONDS} at a time, until the
     * JIT compilers' share of the server's CPU time falls below {@link #SETTLED_COMPILER_SHARE}, or
     * for {@code BENCH_WARMUP_MAX_SECONDS} at most: the phases after it then measure the code the
     * load runs, not the compiling of it, which the first minute of a JVM's life pays once.
     */
    private void warmUp(String name, Target<?, ?> target) throws Exception {
      double slice = settings.warmUpSeconds();
      double spent = 0;
      for (int i = 1; ; i++) {
        var measured = print("warm-up " + i, name, target.run(CONNECTIONS, CALLS_PER_CONNECTION, slice));
        spent += slice;
        if (measured.compilerShare() < SETTLED_COMPILER_SHARE || spent + slice > settings.warmUpMaxSeconds()) {
          return;
        }
      }
    }

    private Measured print(String label, String name, Measured measured) {
      var loop = measured.loop();
      failedCalls.addAndGet(loop.failed());
      Report.line(label, "%-16s %,8.0f calls/s, p50 %.3f ms, p99 %.2f ms, server CPU %.1f us/call (JIT %.1f)%s,"
          + " %d failed%s",
          name, loop.callsPerSecond(), loop.percentileMillis(0.5), loop.percentileMillis(0.99),
          measured.serverMicrosPerCall(), measured.compilerMicrosPerCall(), measured.postgres() == null || name.startsWith("raw") ? ""
              : String.format(Locale.ROOT, ", PostgreSQL CPU %.1f us/call (this database %.1f)",
                  measured.postgresMicrosPerCall(), measured.ownDatabaseMicrosPerCall()),
          loop.failed(), loop.firstFailure() == null ? "" : " (first: " + loop.firstFailure() + ")");
      return measured;
    }

    private void summarise(List<Round> rounds, List<Measured> creates, Bulk.Result bulk, double startMedian, double idleMib,
        double busyMib, String heapLimit) {
      double raw64 = Stats.median(rounds, round -> round.raw64().loop().callsPerSecond());
      double pg64 = pgbench == null ? Double.NaN : Stats.median(rounds, round -> round.pg64().tps());
      double h = 1 / (1 / raw64 + 1 / pg64);
      double get64 = Stats.median(rounds, round -> round.get64().loop().callsPerSecond());
      double p99 = Stats.median(rounds, round -> round.get64().loop().percentileMillis(0.99));
      double serverCpu = Stats.median(rounds, round -> round.get64().serverMicrosPerCall());
      double serverJit = Stats.median(rounds, round -> round.get64().compilerMicrosPerCall());
      double rawCpu = Stats.median(rounds, round -> round.raw64().serverMicrosPerCall());
      double pgCpu = Stats.median(rounds, round -> round.get64().ownDatabaseMicrosPerCall());
      double pgCpuAll = Stats.median(rounds, round -> round.get64().postgresMicrosPerCall());
      double raw1 = Stats.median(rounds, round -> round.raw1().loop().percentileMillis(0.5));
      double pg1 = pgbench == null ? Double.NaN : Stats.median(rounds, round -> round.pg1().latencyMillis());
      double get1 = Stats.median(rounds, round -> round.get1().loop().percentileMillis(0.5));
      double bound1 = raw1 + pg1 + 0.1;
      String n = rounds.size() == 1 ? "" : " (median of " + rounds.size() + ")";

      Report.line("median" + n, "raw grpc-java 64 %,.0f calls/s (server CPU %.1f us/call), pgbench -c 64 %,.0f tps:"
          + " H = 1/(1/raw + 1/pgbench) = %,.0f calls/s", raw64, rawCpu, pg64, h);
      Report.line("median" + n, "GetUser 64 %,.0f calls/s = %.2f x H (target >= 0.8), p99 %.2f ms (target <= 10)",
          get64, get64 / h, p99);
      Report.line("median" + n, "GetUser 64 server CPU %.1f us/call (target <= 50; its JIT compilers %.1f), PostgreSQL"
          + " CPU %.1f us/call in this database's backends, %.1f in all PostgreSQL processes (target <= 25)", serverCpu,
          serverJit, pgCpu, pgCpuAll);
      Report.line("median" + n, "GetUser 1 p50 %.3f ms; bound: raw p50 %.3f + pgbench -c 1 latency %.3f + 0.100 ="
          + " %.3f ms (ratio %.2f, target <= 1)", get1, raw1, pg1, bound1, get1 / bound1);
      Report.line("service heap limit", "%s (the launcher's JVM options)", heapLimit);
      double createCpu = Stats.median(creates, Measured::serverMicrosPerCall);
      Report.line("CreateUser vs GetUser", "server CPU %.1f us/call%s = %.2f x GetUser's %.1f (target <= 2)",
          createCpu, n, createCpu / serverCpu, serverCpu);

      report.target("GetUser 64 calls/s / H", String.format(Locale.ROOT, "%,.0f/s", get64),
          String.format(Locale.ROOT, "H %,.0f/s", h), get64 / h, Report.Goal.AT_LEAST, 0.8);
      report.target("GetUser 64 p99", ms(p99), "10 ms", p99 / 10, Report.Goal.AT_MOST, 1);
      report.target("GetUser 64 server CPU/call", us(serverCpu), "50 us", serverCpu / 50, Report.Goal.AT_MOST, 1);
      report.target("GetUser 64 PostgreSQL CPU/call", us(pgCpu) + " (all " + us(pgCpuAll) + ")", "25 us", pgCpu / 25,
          Report.Goal.AT_MOST, 1);
      report.target("GetUser 1 p50", ms(get1), "raw+pgbench+0.1 " + ms(bound1), get1 / bound1, Report.Goal.AT_MOST, 1);
      report.target("CreateUser 64 server CPU/call", us(createCpu), "2 x " + us(serverCpu),
          createCpu / (2 * serverCpu), Report.Goal.AT_MOST, 1);
      report.target("ImportUsers / COPY in", String.format(Locale.ROOT, "%,.0f/s", bulk.importPerSecond()),
          String.format(Locale.ROOT, "%,.0f/s", bulk.copyInPerSecond()),
          bulk.importPerSecond() / bulk.copyInPerSecond(), Report.Goal.AT_LEAST, 0.7);
      report.target("ListUsers / COPY out", String.format(Locale.ROOT, "%,.0f/s", bulk.listPerSecond()),
          String.format(Locale.ROOT, "%,.0f/s", bulk.copyOutPerSecond()),
          bulk.listPerSecond() / bulk.copyOutPerSecond(), Report.Goal.AT_LEAST, 1.0);
      report.figure("ListUsers heap peak", mib(bulk.heapPeakMib()), "flat, 256 MiB heap", "");
      report.figure("start-up to SERVING", String.format(Locale.ROOT, "%.0f ms", startMedian), "<= 1000 ms", startMedian <= 1000 ? "met" : "missed");
      report.figure("RSS idle", mib(idleMib), "<= 120 MiB", idleMib <= 120 ? "met" : "missed");
      report.figure("RSS after GetUser load", mib(busyMib), "<= 200 MiB", busyMib <= 200 ? "met" : "missed");
      report.figure("failed calls", Long.toString(failedCalls.get()), "0", failedCalls.get() == 0 ? "met" : "missed");
      System.out.println();
      report.printTable();
    }
  }

  private static String ms(double millis) {
    return String.format(Locale.ROOT, "%.3f ms", millis);
  }

  private static String us(double micros) {
    return String.format(Locale.ROOT, "%.1f us", micros);
  }

  private static String mib(double mib) {
    return Double.isNaN(mib) ? "n/a" : String.format(Locale.ROOT, "%.0f MiB", mib);
  }

  /** One interleaved round; the pgbench results are null without pgbench. */
  private record Round(Measured raw64, Pgbench.Result pg64, Measured get64, Measured raw1, Pgbench.Result pg1,
      Measured get1) {}

  /** A closed loop with the CPU its server, and PostgreSQL, spent on it. */
  record Measured(LoadGenerator.Loop loop, long serverTicks, long compilerTicks, PostgresCpu.Ticks postgres) {

    double serverMicrosPerCall() {
      return perCall(serverTicks, loop.calls());
    }

    /** The part of {@link #serverMicrosPerCall()} that the server's JIT compiler threads used. */
    double compilerMicrosPerCall() {
      return perCall(compilerTicks, loop.calls());
    }

    double compilerShare() {
      return serverTicks == 0 ? 0 : (double) compilerTicks / serverTicks;
    }

    double postgresMicrosPerCall() {
      return postgres == null ? Double.NaN : perCall(postgres.all(), loop.calls());
    }

    double ownDatabaseMicrosPerCall() {
      return postgres == null ? Double.NaN : perCall(postgres.ownDatabase(), loop.calls());
    }
  }

  static Measured measure(ServerProcess server, PostgresCpu postgresCpu, Callable<LoadGenerator.Loop> phase)
      throws Exception {
    long before = server.cpuTicks();
    long compilingBefore = server.compilerTicks();
    var postgres = postgresCpu == null ? null : postgresCpu.start();
    var loop = phase.call();
    long after = server.cpuTicks();
    long compilingAfter = server.compilerTicks();
    return new Measured(loop, after - before, Math.max(0, compilingAfter - compilingBefore),
        postgres == null ? null : postgres.stop());
  }

  static double perCall(long ticks, long calls) {
    return calls == 0 ? Double.NaN : ticks * ProcStat.MICROS_PER_TICK / calls;
  }
}
