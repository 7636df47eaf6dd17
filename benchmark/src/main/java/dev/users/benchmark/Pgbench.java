package dev.users.benchmark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * PostgreSQL's own benchmark tool, the ceiling of an indexed lookup on this machine:
 * {@code pgbench -S -M prepared} runs {@code SELECT abalance FROM pgbench_accounts WHERE aid = $1}
 * over a prepared statement, the work GetUser asks of the database.
 */
final class Pgbench {

  private static final Pattern TPS = Pattern.compile("(?m)^tps = ([0-9.]+) ");
  private static final Pattern LATENCY = Pattern.compile("(?m)^latency average = ([0-9.]+) ms");
  private static final Pattern PROCESSED = Pattern.compile("(?m)^number of transactions actually processed: ([0-9]+)");
  private static final Pattern FAILED = Pattern.compile("(?m)^number of failed transactions: ([0-9]+)");

  private final ScratchDatabase database;
  private final Path directory;

  Pgbench(ScratchDatabase database, Path directory) {
    this.database = database;
    this.directory = directory;
  }

  /** The installed pgbench, if any. */
  static boolean installed() {
    for (var dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "pgbench"))) {
        return true;
      }
    }
    return false;
  }

  /** {@code pgbench -i -s 1}: 100,000 accounts in the scratch database's public schema. */
  void initialise() throws IOException, InterruptedException {
    run("init", List.of("-i", "-s", "1", "-q"));
  }

  /** {@code pgbench -S -M prepared -c <clients> -j <threads> -T <seconds>}. */
  Result selectOnly(int clients, int threads, int seconds) throws IOException, InterruptedException {
    var output = run("c" + clients, List.of("-S", "-M", "prepared", "-n", "-c", Integer.toString(clients),
        "-j", Integer.toString(threads), "-T", Integer.toString(seconds)));
    return parse(output);
  }

  /** Transactions per second, average latency, transactions and failed transactions of one run. */
  record Result(double tps, double latencyMillis, long transactions, long failed) {}

  static Result parse(String output) {
    var tps = TPS.matcher(output);
    var latency = LATENCY.matcher(output);
    var processed = PROCESSED.matcher(output);
    if (!tps.find() || !latency.find() || !processed.find()) {
      throw new IllegalArgumentException("no tps, latency average or transactions in pgbench's output:\n" + output);
    }
    // pgbench 15 prints the failed count only when there were some (or with --failures-detailed).
    var failed = FAILED.matcher(output);
    return new Result(Double.parseDouble(tps.group(1)), Double.parseDouble(latency.group(1)),
        Long.parseLong(processed.group(1)), failed.find() ? Long.parseLong(failed.group(1)) : 0);
  }

  private String run(String label, List<String> arguments) throws IOException, InterruptedException {
    var command = new ArrayList<>(List.of("pgbench", "-h", database.host(), "-p", Integer.toString(database.port()),
        "-U", database.user()));
    command.addAll(arguments);
    command.add(database.name());
    var log = directory.resolve("pgbench-" + label + ".log");
    Files.deleteIfExists(log);
    var environment = database.password().isEmpty() ? Map.<String, String>of() : Map.of("PGPASSWORD", database.password());
    try (var child = ChildProcess.start("pgbench", command, directory, environment, log)) {
      int exit = child.waitFor(600);
      var output = Files.readString(log);
      if (exit != 0) {
        throw new IllegalStateException("pgbench " + String.join(" ", arguments) + " exited with " + exit + ":\n" + output);
      }
      return output;
    }
  }
}
