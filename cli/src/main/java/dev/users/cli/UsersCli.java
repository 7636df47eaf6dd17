package dev.users.cli;

import com.google.protobuf.FieldMask;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.User;
import dev.users.client.UsersClient;
import dev.users.client.UsersClientException;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code users}: the command line client of users.v1, one subcommand per call. Connection options
 * are accepted before or after the subcommand. Output is the proto's canonical JSON (one object a
 * line) or a table for people; failures go to stderr with their status, field violations and
 * request id, and set an {@link ExitCode exit code} per class of failure.
 */
@Command(name = "users", mixinStandardHelpOptions = true, version = "users 1.0.0-SNAPSHOT",
    description = "Calls the users.v1 service.", footerHeading = "%nExit codes:%n")
public final class UsersCli {

  private static final Pattern SHORT_DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
  private static final JsonFormat.Printer JSON = JsonFormat.printer().omittingInsignificantWhitespace();

  enum Output { json, table }

  @Option(names = "--target", paramLabel = "HOST:PORT", defaultValue = "localhost:50051", scope = ScopeType.INHERIT,
      description = "HOST:PORT or dns:///HOST:PORT of the service (default: ${DEFAULT-VALUE})")
  String target;

  @Option(names = "--plaintext", scope = ScopeType.INHERIT,
      description = "connect without TLS (a local service); the token is sent anyway")
  boolean plaintext;

  @Option(names = "--ca", paramLabel = "FILE", scope = ScopeType.INHERIT,
      description = "trust the server certificates issued by the CA in this PEM file")
  Path ca;

  @Option(names = "--cert", paramLabel = "FILE", scope = ScopeType.INHERIT,
      description = "client certificate chain (PEM) for mutual TLS, with --key")
  Path cert;

  @Option(names = "--key", paramLabel = "FILE", scope = ScopeType.INHERIT,
      description = "private key: of --cert (PKCS#8 PEM); for token, the signing key (JWK or PKCS#8 PEM)")
  Path key;

  @Option(names = "--token", paramLabel = "JWT", scope = ScopeType.INHERIT,
      description = "bearer token (default: the USERS_TOKEN environment variable)")
  String token;

  @Option(names = "--deadline", paramLabel = "DURATION", defaultValue = "10s", scope = ScopeType.INHERIT,
      description = "deadline of each call: 500ms, 5s, 2m, 1h or ISO-8601 (default: ${DEFAULT-VALUE});"
          + " list and import have 10 minutes unless given")
  Duration deadline;

  @Option(names = "--output", paramLabel = "json|table", scope = ScopeType.INHERIT,
      description = "json (one object a line) or table (default: table on a terminal, json otherwise)")
  Output output;

  @Spec
  CommandSpec spec;

  private final Map<String, String> env;
  private final InputStream in;
  private final PrintStream out;
  private final PrintStream err;
  private final boolean terminal;

  private UsersCli(Map<String, String> env, InputStream in, PrintStream out, PrintStream err, boolean terminal) {
    this.env = env;
    this.in = in;
    this.out = out;
    this.err = err;
    this.terminal = terminal;
  }

  public static void main(String[] args) {
    System.exit(run(args, System.getenv(), System.in, System.out, System.err, System.console() != null));
  }

  /**
   * Runs one command line.
   *
   * @param terminal whether a person is at a terminal: table output and progress by default
   * @return the exit code
   */
  static int run(String[] args, Map<String, String> env, InputStream in, PrintStream out, PrintStream err,
      boolean terminal) {
    var cli = new UsersCli(env, in, out, err, terminal);
    var exitCodes = Arrays.stream(ExitCode.values())
        .map(exit -> "  %d  %s".formatted(exit.code, exit.meaning))
        .collect(Collectors.joining("%n"));
    var line = new CommandLine(cli)
        .setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true))
        .registerConverter(Duration.class, UsersCli::duration)
        .setExecutionExceptionHandler((e, command, parsed) -> cli.failed(e));
    line.getCommandSpec().usageMessage().footer(exitCodes);
    return line.execute(args);
  }

  @Command(name = "create", mixinStandardHelpOptions = true, description = "Registers a user and prints it.")
  int create(
      @Option(names = "--email", paramLabel = "EMAIL", required = true) String email,
      @Option(names = "--display-name", paramLabel = "NAME", required = true) String displayName,
      @Option(names = "--idempotency-key", paramLabel = "KEY",
          description = "repeat the command with the same key to get the user created first, not a second one")
      String idempotencyKey) {
    try (var client = client()) {
      print(idempotencyKey == null
          ? client.createUser(email, displayName)
          : client.createUser(email, displayName, idempotencyKey));
    }
    return ExitCode.OK.code;
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "Prints the user with the id.")
  int get(@Parameters(paramLabel = "ID") String id) {
    try (var client = client()) {
      print(client.getUser(id));
    }
    return ExitCode.OK.code;
  }

  @Command(name = "update", mixinStandardHelpOptions = true, description = "Changes the email and/or display name given; with --etag only that version.")
  int update(
      @Parameters(paramLabel = "ID") String id,
      @Option(names = "--email", paramLabel = "EMAIL") String email,
      @Option(names = "--display-name", paramLabel = "NAME") String displayName,
      @Option(names = "--etag", paramLabel = "ETAG", description = "apply only if the user still has this etag (then safely retried)")
      String etag) {
    if (email == null && displayName == null) {
      throw new ParameterException(spec.commandLine().getSubcommands().get("update"),
          "give --email and/or --display-name: the fields to change");
    }
    var user = User.newBuilder().setId(id);
    var mask = FieldMask.newBuilder();
    if (email != null) {
      user.setEmail(email);
      mask.addPaths("email");
    }
    if (displayName != null) {
      user.setDisplayName(displayName);
      mask.addPaths("display_name");
    }
    if (etag != null) {
      user.setEtag(etag);
    }
    try (var client = client()) {
      print(client.updateUser(UpdateUserRequest.newBuilder().setUser(user).setUpdateMask(mask).build()));
    }
    return ExitCode.OK.code;
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Deletes the user; with --etag only that version.")
  int delete(
      @Parameters(paramLabel = "ID") String id,
      @Option(names = "--etag", paramLabel = "ETAG", description = "delete only if the user still has this etag (then safely retried)")
      String etag) {
    try (var client = client()) {
      client.deleteUser(id, etag == null ? "" : etag);
    }
    if (output() == Output.table) {
      out.println("deleted " + id);
    }
    return ExitCode.OK.code;
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Prints users in creation order, one a line.")
  int list(
      @Option(names = "--page-size", paramLabel = "N", defaultValue = "0", description = "at most N users (0: all)")
      int pageSize,
      @Option(names = "--page-token", paramLabel = "TOKEN", defaultValue = "", description = "start after this token")
      String pageToken) {
    var progress = new Progress(err, terminal, "listed");
    var table = output() == Output.table;
    var rest = new String[] {""};
    try (var client = client();
        var users = streaming(client).listUsers(pageSize, pageToken, token -> rest[0] = token)) {
      if (table) {
        out.println(row("ID", "EMAIL", "DISPLAY NAME", "ETAG"));
      }
      users.forEach(user -> {
        out.println(table ? row(user.getId(), user.getEmail(), user.getDisplayName(), user.getEtag()) : json(user));
        progress.tick();
      });
    } finally {
      progress.done();
    }
    if (!rest[0].isEmpty()) {
      // On stderr, so that the JSON on stdout stays one user a line.
      err.println("more users follow: --page-token " + rest[0]);
    }
    return ExitCode.OK.code;
  }

  @Command(name = "import", mixinStandardHelpOptions = true, description = {
      "Creates the users of a CSV file (header: email,display_name) or of JSON lines",
      "({\"email\": ..., \"display_name\": ...}). Rows that do not parse are reported with their line",
      "and not sent; the others are imported. Exit code 3 when any row was not imported."})
  int importUsers(@Parameters(paramLabel = "FILE", description = "the file, or - for stdin") String file)
      throws IOException {
    var progress = new Progress(err, terminal, "sent");
    var unreadable = new long[1];
    try (var reader = reader(file); var client = client()) {
      var rows = new ImportFile(reader, row -> {
        unreadable[0]++;
        err.println("line " + row.line() + ": not sent: " + row.reason());
      });
      var outcome = streaming(client).importUsers(() -> {
        var items = rows.iterator();
        return new Iterator<>() {
          @Override
          public boolean hasNext() {
            return items.hasNext();
          }

          @Override
          public ImportUsersRequest next() {
            progress.tick();
            return items.next();
          }
        };
      });
      progress.done();
      for (var failure : outcome.failures()) {
        err.println("line " + rows.lineOf(failure.index()) + ": rejected: " + describe(failure.error()));
      }
      var unsent = unreadable[0];
      if (output() == Output.table) {
        out.printf("created %d, rejected %d, unreadable %d%n", outcome.createdCount(), outcome.rejectedCount(), unsent);
      } else {
        out.printf("{\"created\":%d,\"rejected\":%d,\"unreadable\":%d}%n",
            outcome.createdCount(), outcome.rejectedCount(), unsent);
      }
      return outcome.rejectedCount() + unsent == 0 ? ExitCode.OK.code : ExitCode.INVALID.code;
    }
  }

  @Command(name = "health", mixinStandardHelpOptions = true, description = {
      "Asks grpc.health.v1 whether the service (default: the whole server) serves;",
      "exit code 7 when it does not."})
  int health(@Parameters(paramLabel = "SERVICE", defaultValue = "", description = "e.g. users.v1.UserService")
      String service) {
    var channel = Grpc.newChannelBuilder(target, credentials()).build();
    try {
      var response = HealthGrpc.newBlockingStub(channel)
          .withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS)
          .check(HealthCheckRequest.newBuilder().setService(service).build());
      out.println(output() == Output.table ? response.getStatus().name() : json(response));
      return response.getStatus() == HealthCheckResponse.ServingStatus.SERVING
          ? ExitCode.OK.code : ExitCode.RETRY_LATER.code;
    } finally {
      channel.shutdownNow();
    }
  }

  @Command(name = "token", mixinStandardHelpOptions = true, description = {
      "Prints a short-lived JWT for the service's jwt mode, for local development, signed with --key",
      "(a private JWK such as DevTokens' signing-key.json, or a PKCS#8 PEM key with --key-id)."})
  int token(
      @Option(names = "--issuer", paramLabel = "ISSUER", defaultValue = "users-dev", description = "iss (default: ${DEFAULT-VALUE})")
      String issuer,
      @Option(names = "--audience", paramLabel = "AUDIENCE", defaultValue = "users-service", description = "aud (default: ${DEFAULT-VALUE})")
      String audience,
      @Option(names = "--subject", paramLabel = "SUBJECT", required = true, description = "sub: a user id, or a name for a service") String subject,
      @Option(names = "--scope", paramLabel = "SCOPE", description = "users.admin, users.read, users.write; repeatable") List<String> scopes,
      @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "1h", description = "lifetime (default: ${DEFAULT-VALUE})") Duration ttl,
      @Option(names = "--key-id", paramLabel = "KID", description = "kid of the key in the JWKS (default: the JWK's own)")
      String keyId) throws IOException {
    if (key == null) {
      throw new ParameterException(spec.commandLine().getSubcommands().get("token"), "give --key FILE, the signing key");
    }
    out.println(DevToken.mint(Files.readString(key), keyId, issuer, audience, subject,
        scopes == null ? List.of() : scopes, ttl));
    return ExitCode.OK.code;
  }

  private UsersClient client() {
    var builder = UsersClient.forTarget(target).deadline(deadline);
    if (plaintext) {
      // Asking for plaintext is asking for a local service, where a development token is expected.
      builder.usePlaintext().allowTokenOverPlaintext();
    }
    if (ca != null) {
      builder.trustedCertificates(ca);
    }
    if (cert != null) {
      builder.clientCertificate(cert, requireKeyOfCertificate());
    }
    var bearer = token != null ? token : env.get("USERS_TOKEN");
    if (bearer != null && !bearer.isBlank()) {
      builder.bearerToken(() -> bearer);
    }
    return builder.build();
  }

  /** Streaming calls keep the library's long deadline unless --deadline was given. */
  private UsersClient streaming(UsersClient client) {
    var given = spec.commandLine().getParseResult().subcommand().hasMatchedOption("--deadline")
        || spec.commandLine().getParseResult().hasMatchedOption("--deadline");
    return given ? client.withDeadline(deadline) : client;
  }

  private ChannelCredentials credentials() {
    if (plaintext) {
      return InsecureChannelCredentials.create();
    }
    try {
      var tls = TlsChannelCredentials.newBuilder();
      if (ca != null) {
        tls.trustManager(ca.toFile());
      }
      if (cert != null) {
        tls.keyManager(cert.toFile(), requireKeyOfCertificate().toFile());
      }
      return tls.build();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the TLS certificates", e);
    }
  }

  private Path requireKeyOfCertificate() {
    if (key == null) {
      throw new ParameterException(spec.commandLine(), "--cert needs --key, the certificate's private key");
    }
    return key;
  }

  private BufferedReader reader(String file) throws IOException {
    return file.equals("-")
        ? new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))
        : Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8);
  }

  private Output output() {
    return output != null ? output : terminal ? Output.table : Output.json;
  }

  private void print(User user) {
    if (output() == Output.json) {
      out.println(json(user));
      return;
    }
    out.printf("id:           %s%n", user.getId());
    out.printf("email:        %s%n", user.getEmail());
    out.printf("display name: %s%n", user.getDisplayName());
    out.printf("etag:         %s%n", user.getEtag());
    out.printf("created:      %s%n", user.hasCreateTime() ? Timestamps.toString(user.getCreateTime()) : "");
    out.printf("updated:      %s%n", user.hasUpdateTime() ? Timestamps.toString(user.getUpdateTime()) : "");
  }

  private static String row(String id, String email, String displayName, String etag) {
    return "%-36s  %-32s  %-24s  %s".formatted(id, email, displayName, etag);
  }

  private static String json(MessageOrBuilder message) {
    try {
      return JSON.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a message of users.v1 has no JSON form", e);
    }
  }

  /** Reports a failed command on stderr and chooses its exit code. */
  private int failed(Exception e) throws Exception {
    return switch (e) {
      case UsersClientException failure -> {
        err.println("users: " + describe(failure));
        failure.requestId().ifPresent(id -> err.println("  request id: " + id));
        yield ExitCode.of(failure.code()).code;
      }
      case StatusRuntimeException failure -> {
        err.println("users: " + failure.getStatus().getCode() + ": " + failure.getStatus().getDescription());
        yield ExitCode.of(failure.getStatus().getCode()).code;
      }
      case ParameterException usage -> {
        err.println("users: " + usage.getMessage());
        yield ExitCode.USAGE.code;
      }
      case IllegalArgumentException invalid -> usage(invalid);
      case IllegalStateException invalid -> usage(invalid);
      case IOException io -> other(io);
      case UncheckedIOException io -> other(io);
      default -> throw e;
    };
  }

  private int usage(RuntimeException invalid) {
    err.println("users: " + invalid.getMessage());
    return ExitCode.USAGE.code;
  }

  private int other(Exception io) {
    err.println("users: " + io.getMessage());
    return ExitCode.OTHER.code;
  }

  private static String describe(UsersClientException failure) {
    var text = new StringBuilder(failure.code() + ": " + failure.description());
    if (failure instanceof UsersClientException.InvalidArgument invalid) {
      invalid.violations().forEach(violation ->
          text.append(System.lineSeparator()).append("  ").append(violation.getField()).append(": ")
              .append(violation.getDescription()));
    }
    return text.toString();
  }

  /** {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}, or ISO-8601 ({@code PT1M30S}). */
  static Duration duration(String text) {
    var matcher = SHORT_DURATION.matcher(text);
    if (matcher.matches()) {
      var amount = Long.parseLong(matcher.group(1));
      return switch (matcher.group(2)) {
        case "ms" -> Duration.ofMillis(amount);
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        default -> Duration.ofHours(amount);
      };
    }
    try {
      return Duration.parse(text);
    } catch (DateTimeParseException e) {
      throw new CommandLine.TypeConversionException("expected a duration such as 500ms, 5s, 2m or 1h, got '" + text + "'");
    }
  }
}
