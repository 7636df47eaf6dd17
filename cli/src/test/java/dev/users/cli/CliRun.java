package dev.users.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** One run of {@code users}, as a script sees it: exit code, stdout and stderr. */
record CliRun(int exitCode, String out, String err) {

  /** Runs the CLI with redirected output (not a terminal), no environment and empty stdin. */
  static CliRun of(String... args) {
    return with(Map.of(), "", false, args);
  }

  static CliRun with(Map<String, String> env, String stdin, boolean terminal, String... args) {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    var exitCode = UsersCli.run(args, env, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        terminal);
    return new CliRun(exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  List<String> outLines() {
    return out.lines().toList();
  }
}
