package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.AppenderBase;
import com.google.protobuf.FieldMask;
import dev.users.adapter.grpc.RawCall;
import dev.users.adapter.grpc.TestTokens;
import dev.users.adapter.persistence.PostgresTestDatabase;
import dev.users.adapter.persistence.TableLock;
import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.DeleteUserRequest;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.User;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.DriverManager;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Every RPC, succeeding and failing in every way it can, through the real server on PostgreSQL,
 * logged by the production logging configuration at its most verbose (USERS_LOG_LEVEL=TRACE, and
 * java.util.logging, which grpc-java and pgjdbc use, bridged as {@link Main} does and opened to
 * every level): no line, MDC value or logged exception names an email or display name a call
 * carried.
 */
class LogsKeepNoPersonalDataTest {

  private static final TestTokens ISSUER = TestTokens.withKey("logs-key");
  private static final String TOKEN = ISSUER.token("ops", "users.admin").sign();
  /** Signed by a key the service does not know: refused, and the refusal is logged. */
  private static final String FORGED_TOKEN = TestTokens.withKey("logs-key").token("ops", "users.admin").sign();
  private static final String ADA = "ada.pii-marker@example.org";
  private static final String ADA_NAME = "Ada Piimarker";
  private static final String GRACE = "grace.pii-marker@example.org";
  private static final String GRACE_NAME = "Grace Piimarker";
  private static final String RENAMED = "Countess Piimarker";
  private static final String INVALID_EMAIL = "no-at-sign.pii-marker";
  private static final String TRIGGER_EMAIL = "victim.pii-marker@example.org";
  /** The test's trigger refuses this name with an error whose DETAIL names the row's email. */
  private static final String TRIGGER_NAME = "Trigger Victim Piimarker";
  private static final String LOCKED_EMAIL = "locked.pii-marker@example.org";
  private static final String IMPORTED = "imported%d.pii-marker@example.org";
  /** An email field whose bytes are no UTF-8, which protobuf refuses to decode. */
  private static final byte[] INVALID_UTF8_EMAIL = concat(
      "undecodable".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xFF},
      ".pii-marker@example.org".getBytes(StandardCharsets.UTF_8));

  private final ConcurrentLinkedQueue<ILoggingEvent> events = new ConcurrentLinkedQueue<>();
  private final PostgresTestDatabase database = PostgresTestDatabase.get();
  private String schema;
  private UsersServer server;
  private ManagedChannel channel;
  /** The channel with an administrator's bearer token on every call. */
  private Channel calls;
  private UserServiceGrpc.UserServiceBlockingStub users;
  private Handler[] julHandlers;
  private java.util.logging.Level julLevel;

  @BeforeEach
  void logEverythingAndStart() throws Exception {
    logAtEveryLevelAsInProduction();
    schema = database.newSchemaName();
    server = UsersServer.start(Config.from(Map.ofEntries(
        Map.entry("USERS_GRPC_PORT", "0"),
        Map.entry("USERS_STORAGE", "postgres"),
        Map.entry("USERS_DB_URL", database.jdbcUrl()),
        Map.entry("USERS_DB_USER", database.user()),
        Map.entry("USERS_DB_PASSWORD", database.password()),
        Map.entry("USERS_DB_SCHEMA", schema),
        Map.entry("USERS_DB_STATEMENT_TIMEOUT", "1s"),
        Map.entry("USERS_SHUTDOWN_GRACE", "1s"),
        Map.entry("USERS_AUTH", "jwt"),
        Map.entry("USERS_AUTH_JWKS_FILE", ISSUER.writeJwks(Files.createTempDirectory("jwks").resolve("jwks.json")).toString()),
        Map.entry("USERS_AUTH_ISSUER", TestTokens.ISSUER),
        Map.entry("USERS_AUTH_AUDIENCE", TestTokens.AUDIENCE))));
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
        .build();
    calls = ClientInterceptors.intercept(channel, bearer(TOKEN));
    users = UserServiceGrpc.newBlockingStub(calls).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  @AfterEach
  void stopAndRestoreLogging() throws Exception {
    try {
      if (channel != null) {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      if (server != null) {
        server.stop();
      }
      database.dropSchema(schema);
    } finally {
      restoreLogging();
    }
  }

  @Test
  void noLogLineAtAnyLevelNamesAnEmailADisplayNameOrATokenOfACall() throws Exception {
    var ada = create(ADA, ADA_NAME);
    var grace = create(GRACE, GRACE_NAME);
    expect(Status.Code.INVALID_ARGUMENT, () -> create(INVALID_EMAIL, " "));
    expect(Status.Code.ALREADY_EXISTS, () -> create(ADA.toUpperCase(Locale.ROOT), GRACE_NAME));
    users.getUser(GetUserRequest.newBuilder().setId(ada.getId()).build());
    expect(Status.Code.NOT_FOUND, () -> users.getUser(GetUserRequest.newBuilder()
        .setId("0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8b").build()));
    var renamed = update(ada.getId(), ada.getEtag(), User.newBuilder().setDisplayName(RENAMED), "display_name");
    expect(Status.Code.ABORTED, () -> update(ada.getId(), ada.getEtag(), User.newBuilder().setDisplayName(ADA_NAME),
        "display_name"));
    expect(Status.Code.ALREADY_EXISTS, () -> update(grace.getId(), "", User.newBuilder().setEmail(ADA), "email"));
    expect(Status.Code.INVALID_ARGUMENT, () -> update(grace.getId(), "", User.newBuilder().setEmail(INVALID_EMAIL),
        "email"));
    var undecodable = RawCall.send(calls, UserServiceGrpc.getCreateUserMethod().getFullMethodName(), new Metadata(),
        List.of(createRequestWithRawEmail(INVALID_UTF8_EMAIL)));
    assertThat(undecodable.status().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    users.listUsers(ListUsersRequest.getDefaultInstance()).forEachRemaining(page -> { });
    var imported = importUsers(List.of(
        item(IMPORTED.formatted(1), "Imported One Piimarker"),
        item(INVALID_EMAIL, "Imported Invalid Piimarker"),
        item(GRACE, "Imported Taken Piimarker"),
        item(IMPORTED.formatted(1).toUpperCase(Locale.ROOT), "Imported Twice Piimarker")));
    assertThat(imported.getRejectedCount()).isEqualTo(3);
    expect(Status.Code.ABORTED, () -> users.deleteUser(DeleteUserRequest.newBuilder()
        .setId(ada.getId()).setEtag(ada.getEtag()).build()));
    users.deleteUser(DeleteUserRequest.newBuilder().setId(ada.getId()).setEtag(renamed.getEtag()).build());

    expect(Status.Code.UNAUTHENTICATED, () -> UserServiceGrpc.newBlockingStub(channel)
        .withInterceptors(bearer(FORGED_TOKEN)).withDeadlineAfter(20, TimeUnit.SECONDS)
        .getUser(GetUserRequest.newBuilder().setId(grace.getId()).build()));
    refuseTheTriggerNameWithADetailNamingTheEmail();
    expect(Status.Code.INTERNAL, () -> create(TRIGGER_EMAIL, TRIGGER_NAME));
    try (var lock = TableLock.ofWrites(database, schema)) {
      expect(Status.Code.UNAVAILABLE, () -> create(LOCKED_EMAIL, "Locked Out Piimarker"));
    }
    server.stop();

    var logged = events.stream().map(LogsKeepNoPersonalDataTest::render).toList();
    System.out.println("lines logged at every level while the calls ran: " + logged.size());
    assertThat(logged).as("the unexpected failure is logged with its stack trace")
        .anyMatch(line -> line.contains("answered with INTERNAL") && line.contains("\tat "));
    assertThat(logged).as("the outage is logged at DEBUG").anyMatch(line -> line.contains("answered UNAVAILABLE"));
    assertThat(logged).as("the undecodable request is logged").anyMatch(line -> line.contains("undecodable request"));
    assertThat(logged).as("the refused token is logged").anyMatch(line -> line.contains("authentication refused"));
    // Every JWT starts with the base64url of '{"', whichever claims it holds.
    assertThat(logged).as("lines holding a bearer token").filteredOn(line -> line.contains("eyJ")).isEmpty();
    assertThat(logged).as("lines naming an email or display name the calls carried")
        .filteredOn(line -> line.toLowerCase(Locale.ROOT).matches("(?s).*(pii-marker|piimarker).*"))
        .isEmpty();
  }

  private void refuseTheTriggerNameWithADetailNamingTheEmail() throws Exception {
    try (var connection = DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
        var statement = connection.createStatement()) {
      statement.execute("""
          CREATE FUNCTION "%1$s".refuse_victim() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF NEW.display_name = '%2$s' THEN
              RAISE EXCEPTION 'refused by the test trigger' USING DETAIL = 'the row of ' || NEW.email;
            END IF;
            RETURN NEW;
          END $$;
          CREATE TRIGGER refuse_victim BEFORE INSERT ON "%1$s".users
            FOR EACH ROW EXECUTE FUNCTION "%1$s".refuse_victim();
          """.formatted(schema, TRIGGER_NAME));
    }
  }

  private User create(String email, String displayName) {
    return users.createUser(CreateUserRequest.newBuilder().setEmail(email).setDisplayName(displayName).build())
        .getUser();
  }

  /** The bytes of a CreateUser request with {@code email} as field 1's raw bytes. */
  private static byte[] createRequestWithRawEmail(byte[] email) {
    return concat(new byte[] {0x0A, (byte) email.length}, email);
  }

  private static ClientInterceptor bearer(String token) {
    var metadata = new Metadata();
    metadata.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return MetadataUtils.newAttachHeadersInterceptor(metadata);
  }

  private static byte[] concat(byte[]... parts) {
    var bytes = new ByteArrayOutputStream();
    for (var part : parts) {
      bytes.writeBytes(part);
    }
    return bytes.toByteArray();
  }

  private User update(String id, String etag, User.Builder change, String field) {
    return users.updateUser(UpdateUserRequest.newBuilder()
        .setUser(change.setId(id).setEtag(etag))
        .setUpdateMask(FieldMask.newBuilder().addPaths(field))
        .build()).getUser();
  }

  private ImportUsersResponse importUsers(List<ImportUsersRequest> items) throws Exception {
    var response = new CompletableFuture<ImportUsersResponse>();
    var requests = UserServiceGrpc.newStub(calls).withDeadlineAfter(20, TimeUnit.SECONDS)
        .importUsers(new StreamObserver<>() {
          @Override
          public void onNext(ImportUsersResponse value) {
            response.complete(value);
          }

          @Override
          public void onError(Throwable error) {
            response.completeExceptionally(error);
          }

          @Override
          public void onCompleted() {}
        });
    items.forEach(requests::onNext);
    requests.onCompleted();
    return response.get(20, TimeUnit.SECONDS);
  }

  private static ImportUsersRequest item(String email, String displayName) {
    return ImportUsersRequest.newBuilder().setEmail(email).setDisplayName(displayName).build();
  }

  private static void expect(Status.Code code, Runnable call) {
    var failure = catchThrowableOfType(StatusRuntimeException.class, call::run);
    assertThat(failure).as("the call failed").isNotNull();
    assertThat(failure.getStatus().getCode()).isEqualTo(code);
  }

  /** Everything an appender could write of the event: message, MDC, exception with its causes. */
  private static String render(ILoggingEvent event) {
    var line = new StringBuilder()
        .append(event.getLevel()).append(' ')
        .append(event.getLoggerName()).append(' ')
        .append(event.getThreadName()).append(' ')
        .append(event.getMDCPropertyMap()).append(' ')
        .append(event.getFormattedMessage());
    if (event.getThrowableProxy() != null) {
      line.append('\n').append(ThrowableProxyUtil.asString(event.getThrowableProxy()));
    }
    return line.toString();
  }

  /**
   * The service's logging at TRACE, every event collected; java.util.logging bridged to it
   * and opened to every level, so that no library's fine-grained logging escapes the check.
   */
  private void logAtEveryLevelAsInProduction() throws Exception {
    var context = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logging.configure(new Config.Logs(Config.LogFormat.TEXT, Config.LogLevel.TRACE));
    var capture = new AppenderBase<ILoggingEvent>() {
      @Override
      protected void append(ILoggingEvent event) {
        event.prepareForDeferredProcessing();
        events.add(event);
      }
    };
    capture.setContext(context);
    capture.start();
    var root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    assertThat(root.getLevel()).isEqualTo(Level.TRACE);
    // The root's appender and the access log's own, as Logging sets them up.
    for (var logger : List.of(root, context.getLogger("access"))) {
      assertThat(logger.iteratorForAppenders().hasNext()).as("%s has an appender", logger.getName()).isTrue();
      logger.detachAndStopAllAppenders();
      logger.addAppender(capture);
    }

    var julRoot = java.util.logging.Logger.getLogger("");
    julHandlers = julRoot.getHandlers();
    julLevel = julRoot.getLevel();
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    julRoot.setLevel(java.util.logging.Level.ALL);
  }

  private void restoreLogging() throws Exception {
    SLF4JBridgeHandler.uninstall();
    var julRoot = java.util.logging.Logger.getLogger("");
    julRoot.setLevel(julLevel);
    for (var handler : julHandlers) {
      julRoot.addHandler(handler);
    }
    var context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    new ContextInitializer(context).autoConfig();
  }
}
