package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.users.api.v1.User;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged CLI ({@code cli/target/users-cli.jar}, built earlier in the reactor: bootstrap
 * depends on it for that) run as a process against the packaged service jar, as a user runs both.
 */
class UsersCliIT {

  private static final Path CLI_JAR = Path.of("..", "cli", "target", "users-cli.jar");

  @RegisterExtension
  final ServiceJar.Launcher services = new ServiceJar.Launcher();

  @TempDir
  Path dir;

  private String target;

  /** One run of the CLI: its exit code, stdout and stderr. */
  private record Run(int exitCode, String out, String err) {}

  private Run users(String... args) throws IOException, InterruptedException {
    assertThat(CLI_JAR).as("the CLI jar is built by the cli module's package phase").exists();
    var java = ProcessHandle.current().info().command().orElse("java");
    var command = new ArrayList<>(List.of(java, "-jar", CLI_JAR.toString(), "--target", target, "--plaintext"));
    command.addAll(List.of(args));
    var out = Files.createTempFile(dir, "out", ".txt");
    var err = Files.createTempFile(dir, "err", ".txt");
    var builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
    builder.environment().remove("USERS_TOKEN");
    var process = builder.start();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("users " + String.join(" ", args) + " did not finish within 30 s");
    }
    return new Run(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  private static User parseUser(String json) throws IOException {
    var user = User.newBuilder();
    JsonFormat.parser().merge(json, user);
    return user.build();
  }

  @Test
  void createsGetsAndImportsThroughTheCliJarWithAnExitCodePerOutcome() throws Exception {
    var service = services.start(Map.of("USERS_GRPC_PORT", "0", "USERS_STORAGE", "memory"));
    target = "127.0.0.1:" + service.awaitPort();

    var created = users("create", "--email", "ada@example.org", "--display-name", "Ada");
    assertThat(created.exitCode()).as(created.err()).isZero();
    var ada = parseUser(created.out());
    assertThat(ada.getEmail()).isEqualTo("ada@example.org");

    var got = users("get", ada.getId(), "--output", "json");
    assertThat(got.exitCode()).as(got.err()).isZero();
    assertThat(parseUser(got.out())).isEqualTo(ada);

    var taken = users("create", "--email", "ADA@example.org", "--display-name", "Ada again");
    assertThat(taken.exitCode()).isEqualTo(5);
    assertThat(taken.err()).startsWith("users: ALREADY_EXISTS: ").contains("request id: ");

    var csv = Files.writeString(dir.resolve("users.csv"), """
        email,display_name
        bob@example.org,Bob
        "carl@example.org,Carl
        not-an-email,Dora
        eve@example.org,"Eve, the second"
        """);
    var imported = users("import", csv.toString());
    assertThat(imported.exitCode()).as("some rows were not imported").isEqualTo(3);
    assertThat(imported.out().strip()).isEqualTo("{\"created\":2,\"rejected\":1,\"unreadable\":1}");
    assertThat(imported.err().lines()).anyMatch(line -> line.startsWith("line 3: not sent: "))
        .anyMatch(line -> line.startsWith("line 4: rejected: INVALID_ARGUMENT: "))
        .anyMatch(line -> line.startsWith("  email: "));

    var listed = users("list");
    assertThat(listed.exitCode()).isZero();
    assertThat(listed.out().lines().map(line -> {
      try {
        return parseUser(line).getDisplayName();
      } catch (IOException e) {
        throw new AssertionError(line, e);
      }
    })).containsExactly("Ada", "Bob", "Eve, the second");

    var missing = users("get", "0190a000-0000-7000-8000-000000000000");
    assertThat(missing.exitCode()).isEqualTo(4);
    assertThat(missing.err()).startsWith("users: NOT_FOUND: ");
    assertThat(missing.out()).isEmpty();

    assertThat(users("health", "users.v1.UserService").out().strip()).isEqualTo("{\"status\":\"SERVING\"}");
  }
}
