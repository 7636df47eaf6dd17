package dev.users.cli;

import static dev.users.cli.FakeUsersServer.user;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.util.JsonFormat;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.DeleteUserRequest;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.User;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.StatusProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UsersCliTest {

  private final FakeUsersServer service = new FakeUsersServer(List.of(user(1), user(2), user(3)));

  @AfterEach
  void stopService() {
    service.close();
  }

  private String[] call(String... args) {
    var all = new String[args.length + 3];
    all[0] = "--target=" + service.target();
    all[1] = "--plaintext";
    all[2] = "--deadline=5s";
    System.arraycopy(args, 0, all, 3, args.length);
    return all;
  }

  private static User parseUser(String json) throws Exception {
    var user = User.newBuilder();
    JsonFormat.parser().merge(json, user);
    return user.build();
  }

  @Test
  void createPrintsTheCreatedUserAsCanonicalJsonWhenOutputIsNotATerminal() throws Exception {
    var run = CliRun.of(call("create", "--email", "ada@example.org", "--display-name", "Ada", "--idempotency-key", "k-1"));

    assertThat(run.exitCode()).isZero();
    assertThat(run.outLines()).singleElement().asString().contains("\"displayName\":\"Ada\"");
    assertThat(parseUser(run.out())).isEqualTo(user(1).toBuilder().setEmail("ada@example.org").setDisplayName("Ada").build());
    assertThat(service.<CreateUserRequest>requests("CreateUser")).extracting(CreateUserRequest::getIdempotencyKey)
        .containsExactly("k-1");
  }

  @Test
  void getPrintsTheUserAsATableOnATerminal() {
    var run = CliRun.with(Map.of(), "", true, call("get", user(2).getId()));

    assertThat(run.exitCode()).isZero();
    assertThat(run.outLines()).contains("id:           " + user(2).getId(), "email:        user2@example.com",
        "display name: User 2", "etag:         etag-2");
  }

  @Test
  void theOutputOptionOverridesTheTerminalDefault() throws Exception {
    var run = CliRun.with(Map.of(), "", true, call("get", user(2).getId(), "--output", "json"));

    assertThat(parseUser(run.out())).isEqualTo(user(2));
  }

  @Test
  void connectionOptionsAreAcceptedAfterTheSubcommandToo() throws Exception {
    var run = CliRun.of("get", user(3).getId(), "--plaintext", "--target", service.target(), "--deadline", "5s");

    assertThat(run.exitCode()).isZero();
    assertThat(parseUser(run.out())).isEqualTo(user(3));
  }

  @Test
  void theBearerTokenComesFromUsersTokenUnlessTheTokenOptionIsGiven() {
    CliRun.with(Map.of("USERS_TOKEN", "from-env"), "", false, call("get", user(1).getId()));
    CliRun.with(Map.of("USERS_TOKEN", "from-env"), "", false, call("get", user(1).getId(), "--token", "from-option"));

    assertThat(service.authorizations).containsExactly("Bearer from-env", "Bearer from-option");
  }

  @Test
  void updateSendsAMaskOfTheFieldsGivenAndTheEtag() {
    var run = CliRun.of(call("update", user(1).getId(), "--display-name", "Ada L.", "--etag", "etag-1"));

    assertThat(run.exitCode()).isZero();
    var request = service.<UpdateUserRequest>requests("UpdateUser").getFirst();
    assertThat(request.getUpdateMask().getPathsList()).containsExactly("display_name");
    assertThat(request.getUser().getDisplayName()).isEqualTo("Ada L.");
    assertThat(request.getUser().getEtag()).isEqualTo("etag-1");
  }

  @Test
  void updateWithNoFieldToChangeIsAUsageError() {
    var run = CliRun.of(call("update", user(1).getId()));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("give --email and/or --display-name");
    assertThat(service.requests("UpdateUser")).isEmpty();
  }

  @Test
  void deleteSendsTheEtagAndPrintsNothingAsJson() {
    var run = CliRun.of(call("delete", user(1).getId(), "--etag", "etag-1"));

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).isEmpty();
    assertThat(service.<DeleteUserRequest>requests("DeleteUser")).extracting(DeleteUserRequest::getEtag)
        .containsExactly("etag-1");
  }

  @Test
  void aMissingRequiredOptionExitsWithTheUsageCode() {
    var run = CliRun.of(call("create", "--email", "ada@example.org"));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("Missing required option: '--display-name=NAME'");
  }

  @Test
  void listPrintsOneJsonObjectPerUser() throws Exception {
    var run = CliRun.of(call("list"));

    assertThat(run.exitCode()).isZero();
    assertThat(run.outLines()).hasSize(3);
    assertThat(List.of(parseUser(run.outLines().get(0)), parseUser(run.outLines().get(2)))).containsExactly(user(1), user(3));
    assertThat(run.err()).as("no progress when stderr is not a terminal").isEmpty();
  }

  @Test
  void listOfOnePageSaysOnStderrWhereTheNextPageStarts() throws Exception {
    var run = CliRun.of(call("list", "--page-size", "2"));

    assertThat(run.exitCode()).isZero();
    assertThat(run.outLines()).hasSize(2);
    assertThat(run.err().strip()).isEqualTo("more users follow: --page-token " + user(2).getId());
  }

  @Test
  void listPrintsATableWithAHeaderAndProgressOnATerminal() {
    var run = CliRun.with(Map.of(), "", true, call("list"));

    assertThat(run.outLines()).hasSize(4);
    assertThat(run.outLines().getFirst()).startsWith("ID").contains("EMAIL", "DISPLAY NAME", "ETAG");
    assertThat(run.outLines().get(1)).startsWith(user(1).getId()).contains("user1@example.com", "User 1", "etag-1");
    assertThat(run.err()).contains("listed 3 (");
  }

  @ParameterizedTest(name = "{0} exits with {1}")
  @CsvSource({
      "INVALID_ARGUMENT, 3",
      "NOT_FOUND, 4",
      "ALREADY_EXISTS, 5",
      "ABORTED, 5",
      "FAILED_PRECONDITION, 5",
      "UNAUTHENTICATED, 6",
      "PERMISSION_DENIED, 6",
      "UNAVAILABLE, 7",
      "DEADLINE_EXCEEDED, 7",
      "RESOURCE_EXHAUSTED, 7",
      "INTERNAL, 1",
  })
  void eachFailureClassHasItsOwnExitCodeAndIsReportedWithItsStatus(Status.Code code, int exitCode) {
    service.fail("GetUser", code.toStatus().withDescription("it went wrong").asRuntimeException());

    var run = CliRun.of(call("get", user(1).getId()));

    assertThat(run.exitCode()).isEqualTo(exitCode);
    assertThat(run.err()).startsWith("users: " + code + ": it went wrong");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void anInvalidArgumentIsReportedWithItsFieldViolationsAndTheRequestId() {
    var trailers = new Metadata();
    trailers.put(Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER), "req-42");
    service.fail("CreateUser", StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(Status.Code.INVALID_ARGUMENT.value())
        .setMessage("invalid request")
        .addDetails(Any.pack(BadRequest.newBuilder()
            .addFieldViolations(BadRequest.FieldViolation.newBuilder().setField("email").setDescription("must contain exactly one '@'"))
            .build()))
        .build(), trailers));

    var run = CliRun.of(call("create", "--email", "ada", "--display-name", "Ada"));

    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.err().lines()).containsExactly(
        "users: INVALID_ARGUMENT: invalid request",
        "  email: must contain exactly one '@'",
        "  request id: req-42");
  }

  @Test
  void anEtagMismatchIsAConflict() {
    service.fail("DeleteUser", conflict("ABORTED", "ETAG_MISMATCH"));

    assertThat(CliRun.of(call("delete", user(1).getId(), "--etag", "etag-0")).exitCode()).isEqualTo(5);
  }

  private static StatusRuntimeException conflict(String code, String reason) {
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(Status.Code.valueOf(code).value())
        .setMessage("the user changed")
        .addDetails(Any.pack(ErrorInfo.newBuilder().setReason(reason).setDomain("users.dev").build()))
        .build());
  }

  @Test
  void importOfCsvSendsTheRowsThatParseAndReportsTheOthersWithTheirLines(@TempDir Path dir) throws Exception {
    var csv = Files.writeString(dir.resolve("users.csv"), """
        display_name,email
        Ada,ada@example.org
        "Lovelace, Ada",lovelace@example.org
        "unclosed,x@example.org
        Carl,carl-without-at

        Dora,dora@example.org,extra
        Eve,eve@example.org
        """);

    var run = CliRun.of(call("import", csv.toString()));

    assertThat(run.exitCode()).as("some rows were not imported").isEqualTo(3);
    assertThat(service.<ImportUsersRequest>requests("ImportUsers")).extracting(ImportUsersRequest::getEmail)
        .containsExactly("ada@example.org", "lovelace@example.org", "carl-without-at", "eve@example.org");
    assertThat(service.<ImportUsersRequest>requests("ImportUsers").get(1).getDisplayName()).isEqualTo("Lovelace, Ada");
    assertThat(run.err().lines()).containsExactly(
        "line 4: not sent: not a CSV record: a quoted field is not closed, or a quote is misplaced",
        "line 7: not sent: expected 2 CSV fields, found 3",
        "line 5: rejected: INVALID_ARGUMENT: email: must contain exactly one '@'");
    assertThat(run.out()).isEqualTo("{\"created\":3,\"rejected\":1,\"unreadable\":2}" + System.lineSeparator());
  }

  @Test
  void importOfJsonLinesFromStdinSucceedsWhenEveryRowIsCreated() {
    var run = CliRun.with(Map.of(), """
        {"email": "ada@example.org", "display_name": "Ada"}
        {"email": "bob@example.org", "displayName": "Bob"}
        """, true, call("import", "-"));

    assertThat(run.exitCode()).isZero();
    assertThat(service.<ImportUsersRequest>requests("ImportUsers")).containsExactly(
        ImportUsersRequest.newBuilder().setEmail("ada@example.org").setDisplayName("Ada").build(),
        ImportUsersRequest.newBuilder().setEmail("bob@example.org").setDisplayName("Bob").build());
    assertThat(run.out()).contains("created 2, rejected 0, unreadable 0");
    assertThat(run.err()).as("progress on a terminal").contains("sent 2 (");
  }

  @Test
  void aJsonLineThatIsNoUserIsReportedAndNotSent() {
    var run = CliRun.with(Map.of(), """
        {"email": "ada@example.org", "display_name": "Ada"}
        {"email": "bob@example.org", "age": 3}
        """, false, call("import", "-"));

    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(service.requests("ImportUsers")).hasSize(1);
    assertThat(run.err()).startsWith("line 2: not sent: not a JSON object of email and display_name");
  }

  @Test
  void aFileWithNeitherACsvHeaderNorJsonIsAUsageError() {
    var run = CliRun.with(Map.of(), "ada@example.org,Ada\n", false, call("import", "-"));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("line 1: expected a CSV header naming the columns email and display_name");
  }

  @Test
  void healthPrintsTheServingStatusAndFailsWhenNotServing() {
    service.health.setStatus("users.v1.UserService", ServingStatus.SERVING);
    service.health.setStatus("other", ServingStatus.NOT_SERVING);

    var serving = CliRun.of(call("health", "users.v1.UserService"));
    var notServing = CliRun.with(Map.of(), "", true, call("health", "other"));
    var unknown = CliRun.of(call("health", "nope"));

    assertThat(serving.exitCode()).isZero();
    assertThat(serving.out().strip()).isEqualTo("{\"status\":\"SERVING\"}");
    assertThat(notServing.exitCode()).isEqualTo(7);
    assertThat(notServing.out().strip()).isEqualTo("NOT_SERVING");
    assertThat(unknown.exitCode()).isEqualTo(4);
  }

  @Test
  void everySubcommandHasHelpWithTheInheritedOptions() {
    var run = CliRun.of("get", "--help");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).startsWith("Usage: users get").contains("--target=HOST:PORT", "--output=json|table");
  }

  @Test
  void theMainHelpListsTheExitCodes() {
    assertThat(CliRun.of("--help").out()).contains("Exit codes:", "  4  not found", "  7  try again later");
  }

  @Test
  void aBadDurationIsAUsageError() {
    var run = CliRun.of("get", "x", "--deadline", "soon");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("expected a duration such as 500ms, 5s, 2m or 1h, got 'soon'");
  }
}
