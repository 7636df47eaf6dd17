package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.FieldMask;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.ResourceInfo;
import com.google.rpc.RetryInfo;
import dev.users.adapter.grpc.RawCall;
import dev.users.adapter.grpc.TestTokens;
import dev.users.adapter.persistence.PostgresTestDatabase;
import dev.users.adapter.persistence.TableLock;
import dev.users.adapter.persistence.TcpProxy;
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
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract written in the comments of {@code users/v1/users.proto}, executable: for every RPC,
 * each status its comment documents, and each status the file header documents for every RPC, is
 * provoked through the assembled server over a real socket and checked with the google.rpc detail
 * the proto promises.
 *
 * <p>Storage failures are provoked on PostgreSQL: UNAVAILABLE with the database down (a cut
 * proxy), DEADLINE_EXCEEDED with the server's maximum deadline passing while the users table is
 * locked, INTERNAL with a column the queries need renamed. Not provoked here: CANCELLED, which is
 * the status a client sees for its own cancellation whatever the server does (that the server
 * stops the call's database work is {@link DeadlineFaultTest}'s), and UNAVAILABLE for more unary
 * calls in flight than the server serves ({@link OverloadTest}'s).
 */
class ApiContractTest {

  private static final String DOMAIN = "users.v1";
  private static final TestTokens ISSUER = TestTokens.withKey("contract");
  private static final AtomicInteger EMAILS = new AtomicInteger();
  private static final Metadata.Key<String> RETRY_PUSHBACK_MS =
      Metadata.Key.of("grpc-retry-pushback-ms", Metadata.ASCII_STRING_MARSHALLER);
  /** Field 1 declares 5 bytes that never come: no request message of the API decodes it. */
  private static final byte[] TRUNCATED = {0x0a, 0x05};
  private static final int IMPORT_MAX_ITEMS = 2;

  @TempDir
  static Path dir;

  private static final PostgresTestDatabase DATABASE = PostgresTestDatabase.get();
  private static final Metadata.Key<String> REQUEST_ID =
      Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);
  private static final Map<Setup, Running> SERVERS = new EnumMap<>(Setup.class);

  /** The server settings a row needs; each is started once, at its first row. */
  enum Setup {
    PLAIN(Map.of()),
    DEADLINE_REQUIRED(Map.of("USERS_REQUIRE_DEADLINE", "true")),
    RATE_LIMITED(Map.of("USERS_RATE_LIMIT", "1/m")),
    JWT(Map.of()),
    IMPORT_CAPPED(Map.of(
        "USERS_IMPORT_MAX_ITEMS", Integer.toString(IMPORT_MAX_ITEMS),
        "USERS_IMPORT_MAX_DURATION", "1s")),
    /** The database is down: the test cuts the proxy in front of it once the server is up. */
    POSTGRES_DOWN(Map.of("USERS_STORAGE", "postgres", "USERS_DB_CONNECTION_TIMEOUT", "250ms")),
    /** A call waiting on a lock ends at the server's deadline, well before the client's. */
    POSTGRES_MAX_DEADLINE(Map.of("USERS_STORAGE", "postgres", "USERS_MAX_DEADLINE", "300ms")),
    /** Every statement fails: the test renames a column the queries need once the server is up. */
    POSTGRES_BROKEN(Map.of("USERS_STORAGE", "postgres"));

    private final Map<String, String> settings;

    Setup(Map<String, String> settings) {
      this.settings = settings;
    }

    Running server() {
      return SERVERS.computeIfAbsent(this, setup -> {
        var env = new HashMap<String, String>();
        env.put("USERS_STORAGE", "memory");
        env.putAll(setup.settings);
        env.put("USERS_GRPC_PORT", "0");
        String schema = null;
        var proxy = setup == POSTGRES_DOWN ? TcpProxy.inFrontOf(DATABASE) : null;
        if (env.get("USERS_STORAGE").equals("postgres")) {
          schema = DATABASE.newSchemaName();
          env.put("USERS_DB_URL", proxy == null ? DATABASE.jdbcUrl() : proxy.jdbcUrl());
          env.put("USERS_DB_USER", DATABASE.user());
          env.put("USERS_DB_PASSWORD", DATABASE.password());
          env.put("USERS_DB_SCHEMA", schema);
        }
        if (setup == JWT) {
          env.put("USERS_AUTH", "jwt");
          env.put("USERS_AUTH_JWKS_FILE", ISSUER.writeJwks(dir.resolve("jwks.json")).toString());
          env.put("USERS_AUTH_ISSUER", TestTokens.ISSUER);
          env.put("USERS_AUTH_AUDIENCE", TestTokens.AUDIENCE);
        }
        var server = UsersServer.start(Config.from(env));
        if (proxy != null) {
          proxy.cut();
        }
        if (setup == POSTGRES_BROKEN) {
          sql("ALTER TABLE \"%s\".users RENAME COLUMN display_name TO renamed_by_the_test".formatted(schema));
        }
        return new Running(server,
            Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create()).build(),
            schema, proxy);
      });
    }
  }

  /**
   * A started server; {@code schema} is its PostgreSQL schema, or null on memory storage, and
   * {@code proxy} the proxy between it and PostgreSQL, or null.
   */
  record Running(UsersServer server, ManagedChannel channel, String schema, TcpProxy proxy) {}

  private static void sql(String statement) {
    try (var connection = DriverManager.getConnection(DATABASE.jdbcUrl(), DATABASE.user(), DATABASE.password());
        var execution = connection.createStatement()) {
      execution.execute(statement);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every statement on the users table of {@code setup}'s schema waits until the lock is closed. */
  private static TableLock usersTableLocked(Setup setup) throws SQLException {
    return TableLock.ofReadsAndWrites(DATABASE, setup.server().schema());
  }

  @AfterAll
  static void stopServers() throws InterruptedException {
    for (var running : SERVERS.values()) {
      running.channel().shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      running.server().stop();
      if (running.proxy() != null) {
        running.proxy().close();
      }
      if (running.schema() != null) {
        DATABASE.dropSchema(running.schema());
      }
    }
  }

  /** How a call ended: its google.rpc.Status and trailers. */
  record Answer(com.google.rpc.Status status, Metadata trailers) {
    Code code() {
      return Code.values()[status.getCode()];
    }

    <T extends Message> T detail(Class<T> type) {
      var matching = status.getDetailsList().stream().filter(any -> any.is(type)).toList();
      assertThat(matching).as("%s details of %s", type.getSimpleName(), status).hasSize(1);
      try {
        return matching.getFirst().unpack(type);
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    }

    List<String> badRequestFields() {
      return detail(BadRequest.class).getFieldViolationsList().stream().map(BadRequest.FieldViolation::getField)
          .toList();
    }

    void hasErrorInfo(String reason, String metadataKey) {
      var info = detail(ErrorInfo.class);
      assertThat(info.getReason()).isEqualTo(reason);
      assertThat(info.getDomain()).isEqualTo(DOMAIN);
      assertThat(info.getMetadataMap()).containsKey(metadataKey);
    }

    static Answer of(ThrowingCallable call) {
      var failure = catchThrowableOfType(StatusRuntimeException.class, call);
      assertThat(failure).as("the call failed with a status").isNotNull();
      var status = StatusProto.fromThrowable(failure);
      return new Answer(status, failure.getTrailers() == null ? new Metadata() : failure.getTrailers());
    }
  }

  /** A way to provoke a status: what it does to the server set up for it. */
  interface Provocation {
    Answer on(Channel channel) throws Exception;
  }

  /** One row of the contract: the RPC, the status documented for it, how it is provoked, what it carries. */
  record Row(Rpc rpc, Code status, String provokedBy, Setup setup, Provocation provocation, Consumer<Answer> carries) {}

  @ParameterizedTest(name = "{0}")
  @MethodSource("contract")
  void everyDocumentedStatusOfEveryRpcIsProduced(Row row) throws Exception {
    var answer = row.provocation().on(row.setup().server().channel());

    assertThat(answer.code()).as(answer.status().toString()).isEqualTo(row.status());
    row.carries().accept(answer);
  }

  static Stream<Named<Row>> contract() {
    var rows = new ArrayList<Row>();
    rows.addAll(List.of(
        new Row(Rpc.CREATE_USER, Code.INVALID_ARGUMENT, "every field invalid", Setup.PLAIN,
            channel -> Answer.of(() -> users(channel).createUser(CreateUserRequest.newBuilder()
                .setEmail("no-at-sign").setDisplayName(" ").setIdempotencyKey("\u00e9").build())),
            answer -> assertThat(answer.badRequestFields())
                .containsExactlyInAnyOrder("email", "display_name", "idempotency_key")),
        new Row(Rpc.CREATE_USER, Code.ALREADY_EXISTS, "an email taken, in other case", Setup.PLAIN,
            channel -> {
              var email = freshEmail();
              create(channel, email);
              return Answer.of(() -> create(channel, email.toUpperCase()));
            },
            answer -> answer.hasErrorInfo("EMAIL_TAKEN", "email")),

        new Row(Rpc.GET_USER, Code.INVALID_ARGUMENT, "an id that is not a UUID", Setup.PLAIN,
            channel -> Answer.of(() -> users(channel).getUser(GetUserRequest.newBuilder().setId("42").build())),
            answer -> assertThat(answer.badRequestFields()).containsExactly("id")),
        new Row(Rpc.GET_USER, Code.NOT_FOUND, "an id nobody has", Setup.PLAIN,
            channel -> Answer.of(() -> users(channel).getUser(GetUserRequest.newBuilder().setId(absentId()).build())),
            ApiContractTest::namesTheMissingUser),

        new Row(Rpc.UPDATE_USER, Code.INVALID_ARGUMENT, "an id that is not a UUID and a mask naming an output-only field", Setup.PLAIN,
            channel -> Answer.of(() -> users(channel).updateUser(UpdateUserRequest.newBuilder()
                .setUser(User.newBuilder().setId("42").setEtag("\u0000").setEmail("no-at-sign").setDisplayName(" "))
                .setUpdateMask(FieldMask.newBuilder().addPaths("email").addPaths("display_name").addPaths("id"))
                .build())),
            answer -> assertThat(answer.badRequestFields())
                .contains("user.id", "update_mask")),
        new Row(Rpc.UPDATE_USER, Code.INVALID_ARGUMENT, "a bad etag and new field values", Setup.PLAIN,
            channel -> {
              var user = create(channel, freshEmail());
              return Answer.of(() -> users(channel).updateUser(UpdateUserRequest.newBuilder()
                  .setUser(User.newBuilder().setId(user.getId()).setEtag("\u0000").setEmail("no-at-sign")
                      .setDisplayName(" "))
                  .build()));
            },
            answer -> assertThat(answer.badRequestFields())
                .containsExactlyInAnyOrder("user.etag", "user.email", "user.display_name")),
        new Row(Rpc.UPDATE_USER, Code.NOT_FOUND, "an id nobody has", Setup.PLAIN,
            channel -> Answer.of(() -> users(channel).updateUser(rename(absentId(), ""))),
            ApiContractTest::namesTheMissingUser),
        new Row(Rpc.UPDATE_USER, Code.ALREADY_EXISTS, "another user's email", Setup.PLAIN,
            channel -> {
              var taken = create(channel, freshEmail()).getEmail();
              var user = create(channel, freshEmail());
              return Answer.of(() -> users(channel).updateUser(UpdateUserRequest.newBuilder()
                  .setUser(User.newBuilder().setId(user.getId()).setEmail(taken))
                  .setUpdateMask(FieldMask.newBuilder().addPaths("email"))
                  .build()));
            },
            answer -> answer.hasErrorInfo("EMAIL_TAKEN", "email")),
        new Row(Rpc.UPDATE_USER, Code.ABORTED, "the etag of an earlier version", Setup.PLAIN,
            channel -> {
              var user = create(channel, freshEmail());
              users(channel).updateUser(rename(user.getId(), user.getEtag()));
              return Answer.of(() -> users(channel).updateUser(rename(user.getId(), user.getEtag())));
            },
            answer -> answer.hasErrorInfo("ETAG_MISMATCH", "id")),

        new Row(Rpc.DELETE_USER, Code.INVALID_ARGUMENT, "a malformed id and etag", Setup.PLAIN,
            channel -> Answer.of(() -> users(channel).deleteUser(
                DeleteUserRequest.newBuilder().setId("42").setEtag("\u0000").build())),
            answer -> assertThat(answer.badRequestFields()).containsExactlyInAnyOrder("id", "etag")),
        new Row(Rpc.DELETE_USER, Code.NOT_FOUND, "an id nobody has", Setup.PLAIN,
            channel -> Answer.of(() -> users(channel).deleteUser(DeleteUserRequest.newBuilder().setId(absentId()).build())),
            ApiContractTest::namesTheMissingUser),
        new Row(Rpc.DELETE_USER, Code.ABORTED, "the etag of an earlier version", Setup.PLAIN,
            channel -> {
              var user = create(channel, freshEmail());
              users(channel).updateUser(rename(user.getId(), user.getEtag()));
              return Answer.of(() -> users(channel).deleteUser(
                  DeleteUserRequest.newBuilder().setId(user.getId()).setEtag(user.getEtag()).build()));
            },
            answer -> answer.hasErrorInfo("ETAG_MISMATCH", "id")),

        new Row(Rpc.LIST_USERS, Code.INVALID_ARGUMENT, "a negative page_size", Setup.PLAIN,
            channel -> Answer.of(() -> list(channel, ListUsersRequest.newBuilder().setPageSize(-1).build())),
            answer -> assertThat(answer.badRequestFields()).containsExactly("page_size")),
        new Row(Rpc.LIST_USERS, Code.INVALID_ARGUMENT, "a malformed page_token", Setup.PLAIN,
            channel -> Answer.of(() -> list(channel, ListUsersRequest.newBuilder().setPageToken("not a token!").build())),
            answer -> assertThat(answer.badRequestFields()).containsExactly("page_token")),

        new Row(Rpc.IMPORT_USERS, Code.INVALID_ARGUMENT, "an invalid item (a per-item failure)", Setup.PLAIN,
            channel -> itemFailure(importUsers(channel, List.of(item("no-at-sign")))),
            answer -> assertThat(answer.badRequestFields()).containsExactly("email")),
        new Row(Rpc.IMPORT_USERS, Code.ALREADY_EXISTS, "an existing user's email (a per-item failure)", Setup.PLAIN,
            channel -> {
              var email = freshEmail();
              create(channel, email);
              return itemFailure(importUsers(channel, List.of(item(email))));
            },
            answer -> answer.hasErrorInfo("EMAIL_TAKEN", "email")),
        new Row(Rpc.IMPORT_USERS, Code.ALREADY_EXISTS, "an earlier item's email (a per-item failure)", Setup.PLAIN,
            channel -> {
              var email = freshEmail();
              return itemFailure(importUsers(channel, List.of(item(email), item(email.toUpperCase()))));
            },
            answer -> answer.hasErrorInfo("EMAIL_TAKEN", "email")),
        new Row(Rpc.IMPORT_USERS, Code.RESOURCE_EXHAUSTED, "one item over USERS_IMPORT_MAX_ITEMS", Setup.IMPORT_CAPPED,
            channel -> Answer.of(() -> importUsers(channel,
                List.of(item(freshEmail()), item("no-at-sign"), item(freshEmail())))),
            answer -> {
              answer.hasErrorInfo("TOO_MANY_ITEMS", "max_items");
              assertThat(answer.detail(ErrorInfo.class).getMetadataMap())
                  .containsEntry("max_items", Integer.toString(IMPORT_MAX_ITEMS));
              var processed = answer.detail(ImportUsersResponse.class);
              assertThat(processed.getCreatedCount()).isEqualTo(1);
              assertThat(processed.getRejectedCount()).isEqualTo(1);
              assertThat(processed.getFailures(0).getIndex()).isEqualTo(1);
            }),
        new Row(Rpc.IMPORT_USERS, Code.DEADLINE_EXCEEDED, "a stream open past USERS_IMPORT_MAX_DURATION",
            Setup.IMPORT_CAPPED,
            channel -> Answer.of(() -> importUsers(UserServiceGrpc.newStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS),
                List.of(item(freshEmail())), false)),
            // The client's deadline is 10 s: the answer is the server's, which carries the request id.
            answer -> assertThat(answer.trailers().get(REQUEST_ID)).isNotNull())));

    for (var rpc : Rpc.values()) {
      rows.addAll(List.of(
          new Row(rpc, Code.INVALID_ARGUMENT, "an undecodable request message", Setup.PLAIN,
              channel -> {
                var outcome = RawCall.send(channel, rpc.fullMethodName(), new Metadata(), List.of(TRUNCATED));
                return new Answer(StatusProto.fromStatusAndTrailers(outcome.status(), outcome.trailers()),
                    outcome.trailers());
              },
              answer -> assertThat(answer.trailers().get(REQUEST_ID)).isNotNull()),
          new Row(rpc, Code.INVALID_ARGUMENT, "no deadline where one is required", Setup.DEADLINE_REQUIRED,
              channel -> Answer.of(() -> rpc.call(channel, false)),
              answer -> assertThat(answer.badRequestFields()).containsExactly("deadline")),
          new Row(rpc, Code.RESOURCE_EXHAUSTED, "metadata over 8 KiB", Setup.PLAIN,
              channel -> Answer.of(() -> rpc.call(withHeader(channel, "x-padding", "p".repeat(9 * 1024)), true)),
              answer -> assertThat(answer.status().getMessage()).contains("8192")),
          new Row(rpc, Code.RESOURCE_EXHAUSTED, "calls over USERS_RATE_LIMIT", Setup.RATE_LIMITED,
              channel -> Answer.of(() -> {
                for (int call = 0; call < 5; call++) {
                  rpc.call(channel, true);
                }
              }),
              answer -> {
                assertThat(answer.detail(RetryInfo.class).getRetryDelay().getSeconds()).isPositive();
                answer.hasErrorInfo("RATE_LIMIT_EXCEEDED", "limit");
                assertThat(answer.trailers().get(RETRY_PUSHBACK_MS)).isNotNull();
              }),
          new Row(rpc, Code.UNAUTHENTICATED, "no bearer token", Setup.JWT,
              channel -> Answer.of(() -> rpc.call(channel, true)),
              answer -> assertThat(answer.status().getMessage()).isEqualTo("a valid bearer token is required")),
          new Row(rpc, Code.PERMISSION_DENIED, "a token whose scope does not allow it (" + rpc.deniedScope + ")",
              Setup.JWT,
              channel -> Answer.of(() -> rpc.call(
                  withHeader(channel, "authorization", "Bearer " + ISSUER.token("caller", rpc.deniedScope).sign()),
                  true)),
              answer -> answer.hasErrorInfo("PERMISSION_DENIED", "operation")),
          new Row(rpc, Code.UNAVAILABLE, "the database down", Setup.POSTGRES_DOWN,
              channel -> Answer.of(() -> rpc.call(channel, true)),
              answer -> assertThat(answer.detail(RetryInfo.class).getRetryDelay().getSeconds()).isPositive()),
          new Row(rpc, Code.DEADLINE_EXCEEDED, "USERS_MAX_DEADLINE passing on a locked table", Setup.POSTGRES_MAX_DEADLINE,
              channel -> {
                try (var lock = usersTableLocked(Setup.POSTGRES_MAX_DEADLINE)) {
                  return Answer.of(() -> rpc.call(channel, true));
                }
              },
              // The client's deadline is 10 s: the answer is the server's, which carries the request id.
              answer -> assertThat(answer.trailers().get(REQUEST_ID)).isNotNull()),
          new Row(rpc, Code.INTERNAL, "every query failing (a column renamed)", Setup.POSTGRES_BROKEN,
              channel -> Answer.of(() -> rpc.call(channel, true)),
              answer -> assertThat(answer.status().getMessage()).isEqualTo("internal error"))));
    }
    return rows.stream().map(row -> Named.of(
        "%s %s: %s".formatted(row.rpc(), row.status(), row.provokedBy()), row));
  }

  enum Rpc {
    CREATE_USER("CreateUser", "users.read"),
    GET_USER("GetUser", "users.write"),
    UPDATE_USER("UpdateUser", "users.read"),
    DELETE_USER("DeleteUser", "users.read"),
    LIST_USERS("ListUsers", "users.write"),
    IMPORT_USERS("ImportUsers", "users.write");

    private final String method;
    /** A scope that does not allow the RPC. */
    private final String deniedScope;

    Rpc(String method, String deniedScope) {
      this.method = method;
      this.deniedScope = deniedScope;
    }

    String fullMethodName() {
      return UserServiceGrpc.SERVICE_NAME + "/" + method;
    }

    /** A well-formed call of the RPC, so that only what the row changes can fail it. */
    void call(Channel channel, boolean withDeadline) throws Exception {
      var stub = UserServiceGrpc.newBlockingStub(channel);
      if (withDeadline) {
        stub = stub.withDeadlineAfter(10, TimeUnit.SECONDS);
      }
      switch (this) {
        case CREATE_USER -> stub.createUser(
            CreateUserRequest.newBuilder().setEmail(freshEmail()).setDisplayName("New").build());
        case GET_USER -> stub.getUser(GetUserRequest.newBuilder().setId(absentId()).build());
        case UPDATE_USER -> stub.updateUser(rename(absentId(), ""));
        case DELETE_USER -> stub.deleteUser(DeleteUserRequest.newBuilder().setId(absentId()).build());
        case LIST_USERS -> stub.listUsers(ListUsersRequest.getDefaultInstance()).forEachRemaining(page -> { });
        case IMPORT_USERS -> {
          var async = UserServiceGrpc.newStub(channel);
          importUsers(withDeadline ? async.withDeadlineAfter(10, TimeUnit.SECONDS) : async, List.of(item(freshEmail())),
              true);
        }
      }
    }
  }

  private static void namesTheMissingUser(Answer answer) {
    var resource = answer.detail(ResourceInfo.class);
    assertThat(resource.getResourceType()).isEqualTo("users.v1.User");
    assertThat(resource.getResourceName()).isNotEmpty();
  }

  private static UserServiceGrpc.UserServiceBlockingStub users(Channel channel) {
    return UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static User create(Channel channel, String email) {
    return users(channel).createUser(CreateUserRequest.newBuilder().setEmail(email).setDisplayName("Ada").build())
        .getUser();
  }

  private static UpdateUserRequest rename(String id, String etag) {
    return UpdateUserRequest.newBuilder()
        .setUser(User.newBuilder().setId(id).setEtag(etag).setDisplayName("Renamed"))
        .setUpdateMask(FieldMask.newBuilder().addPaths("display_name"))
        .build();
  }

  private static void list(Channel channel, ListUsersRequest request) {
    users(channel).listUsers(request).forEachRemaining(page -> { });
  }

  private static ImportUsersRequest item(String email) {
    return ImportUsersRequest.newBuilder().setEmail(email).setDisplayName("Imported").build();
  }

  /** Streams {@code items} to ImportUsers with a 10 s deadline, half-closes, and returns its response. */
  private static ImportUsersResponse importUsers(Channel channel, List<ImportUsersRequest> items) throws Exception {
    return importUsers(UserServiceGrpc.newStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS), items, true);
  }

  /** Streams {@code items} to ImportUsers and returns its response; leaves the stream open unless {@code halfClose}. */
  private static ImportUsersResponse importUsers(UserServiceGrpc.UserServiceStub stub, List<ImportUsersRequest> items,
      boolean halfClose) throws Exception {
    var result = new CompletableFuture<ImportUsersResponse>();
    var requests = stub.importUsers(new StreamObserver<>() {
      @Override
      public void onNext(ImportUsersResponse response) {
        result.complete(response);
      }

      @Override
      public void onError(Throwable error) {
        result.completeExceptionally(error);
      }

      @Override
      public void onCompleted() {}
    });
    items.forEach(requests::onNext);
    if (halfClose) {
      requests.onCompleted();
    }
    try {
      return result.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  /** The per-item failure of a response that rejected exactly one item. */
  private static Answer itemFailure(ImportUsersResponse response) {
    assertThat(response.getRejectedCount()).isEqualTo(1);
    return new Answer(response.getFailures(0).getStatus(), new Metadata());
  }

  private static Channel withHeader(Channel channel, String name, String value) {
    var headers = new Metadata();
    headers.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value);
    return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private static String freshEmail() {
    return "contract" + EMAILS.incrementAndGet() + "@example.org";
  }

  private static String absentId() {
    return "0190b6e0-5f2a-7c3e-9a4b-" + String.format("%012x", EMAILS.incrementAndGet());
  }
}
