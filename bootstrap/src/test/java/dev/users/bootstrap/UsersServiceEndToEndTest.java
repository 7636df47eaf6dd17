package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.FieldMask;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import dev.users.adapter.persistence.PostgresTestDatabase;
import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.DeleteUserRequest;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.ListUsersResponse;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.User;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Channel;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The assembled service over a real socket: Netty, interceptors, health, reflection, use cases
 * and storage, as {@link Main} wires them. {@code OnPostgresql} and {@code InMemory} run the same
 * scenarios, each against one storage; {@code InProduction} and {@code OverTls} check what their
 * setting changes.
 */
class UsersServiceEndToEndTest {

  @Nested
  class OnPostgresql extends Scenarios {

    private String schema;

    @Override
    Map<String, String> storageSettings() {
      var database = PostgresTestDatabase.get();
      schema = database.newSchemaName();
      return Map.of(
          "USERS_STORAGE", "postgres",
          "USERS_DB_URL", database.jdbcUrl(),
          "USERS_DB_USER", database.user(),
          "USERS_DB_PASSWORD", database.password(),
          "USERS_DB_SCHEMA", schema);
    }

    @AfterEach
    void dropSchema() {
      if (schema != null) {
        PostgresTestDatabase.get().dropSchema(schema);
      }
    }
  }

  @Nested
  class InMemory extends Scenarios {

    @Override
    Map<String, String> storageSettings() {
      return Map.of("USERS_STORAGE", "memory");
    }
  }

  abstract static class Scenarios {

    UsersServer server;
    ManagedChannel channel;
    UserServiceGrpc.UserServiceBlockingStub users;

    abstract Map<String, String> storageSettings();

    @BeforeEach
    void startServer() {
      var env = new HashMap<>(storageSettings());
      env.put("USERS_GRPC_PORT", "0");
      env.put("USERS_SHUTDOWN_GRACE", "5s");
      server = UsersServer.start(Config.from(env));
      channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
          .build();
      users = UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stopServer() throws InterruptedException {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.stop();
    }

    @Test
    void reportsServingForTheWholeServerAndForTheUserService() {
      var health = HealthGrpc.newBlockingStub(channel);

      for (var service : List.of("", "users.v1.UserService")) {
        var response = health.check(HealthCheckRequest.newBuilder().setService(service).build());
        assertThat(response.getStatus()).as(service).isEqualTo(ServingStatus.SERVING);
      }
    }

    @Test
    void managesAUserThroughItsWholeLife() {
      var created = create("ada@example.org", "Ada");
      assertThat(created.getId()).matches("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
      assertThat(users.getUser(GetUserRequest.newBuilder().setId(created.getId()).build()).getUser())
          .isEqualTo(created);

      var renamed = users.updateUser(UpdateUserRequest.newBuilder()
          .setUser(User.newBuilder().setId(created.getId()).setDisplayName("Countess").setEtag(created.getEtag()))
          .setUpdateMask(FieldMask.newBuilder().addPaths("display_name"))
          .build()).getUser();
      assertThat(renamed.getDisplayName()).isEqualTo("Countess");
      assertThat(renamed.getEmail()).isEqualTo("ada@example.org");
      assertThat(renamed.getEtag()).isNotEqualTo(created.getEtag());

      assertStatus(() -> users.updateUser(UpdateUserRequest.newBuilder()
              .setUser(User.newBuilder().setId(created.getId()).setDisplayName("Stale").setEtag(created.getEtag()))
              .setUpdateMask(FieldMask.newBuilder().addPaths("display_name"))
              .build()),
          Status.Code.ABORTED);
      assertStatus(() -> users.deleteUser(DeleteUserRequest.newBuilder()
              .setId(created.getId()).setEtag(created.getEtag()).build()),
          Status.Code.ABORTED);

      users.deleteUser(DeleteUserRequest.newBuilder().setId(created.getId()).setEtag(renamed.getEtag()).build());
      assertStatus(() -> users.getUser(GetUserRequest.newBuilder().setId(created.getId()).build()),
          Status.Code.NOT_FOUND);
      assertStatus(() -> users.deleteUser(DeleteUserRequest.newBuilder().setId(created.getId()).build()),
          Status.Code.NOT_FOUND);
    }

    @Test
    void refusesAnEmailTakenIgnoringCaseWithItsReason() {
      create("ada@example.org", "Ada");

      var e = assertStatus(() -> create("ADA@Example.org", "Other Ada"), Status.Code.ALREADY_EXISTS);
      assertThat(detail(e, ErrorInfo.class).getReason()).isEqualTo("EMAIL_TAKEN");
    }

    @Test
    void aRetriedCreationWithTheSameIdempotencyKeyReturnsTheFirstUser() {
      var request = CreateUserRequest.newBuilder()
          .setEmail("ada@example.org").setDisplayName("Ada").setIdempotencyKey("7c0c2f43-retry").build();

      var first = users.createUser(request).getUser();
      var retried = users.createUser(request).getUser();

      assertThat(retried).isEqualTo(first);
    }

    @Test
    void reportsEveryInvalidFieldAtOnce() {
      var e = assertStatus(() -> create("not-an-email", " "), Status.Code.INVALID_ARGUMENT);

      assertThat(detail(e, BadRequest.class).getFieldViolationsList())
          .extracting(BadRequest.FieldViolation::getField)
          .containsExactlyInAnyOrder("email", "display_name");
    }

    @Test
    void importsReportingEachRejectedItemByIndexThenListsEveryoneInIdOrder() throws Exception {
      var items = new ArrayList<ImportUsersRequest>();
      for (int i = 0; i < 1_200; i++) {
        items.add(ImportUsersRequest.newBuilder().setEmail("user" + i + "@example.org").setDisplayName("User " + i).build());
      }
      items.set(10, ImportUsersRequest.newBuilder().setEmail("broken").setDisplayName("Broken").build());
      items.set(700, ImportUsersRequest.newBuilder().setEmail("USER3@example.org").setDisplayName("Dup").build());

      var response = importUsers(items);

      assertThat(response.getCreatedCount()).isEqualTo(1_198);
      assertThat(response.getRejectedCount()).isEqualTo(2);
      assertThat(response.getFailuresList()).extracting(ImportUsersResponse.Failure::getIndex).containsExactly(10L, 700L);
      assertThat(response.getFailures(0).getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
      assertThat(response.getFailures(1).getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS.value());

      var messages = new ArrayList<ListUsersResponse>();
      users.listUsers(ListUsersRequest.getDefaultInstance()).forEachRemaining(messages::add);
      var listed = messages.stream().flatMap(m -> m.getUsersList().stream()).map(User::getId).toList();
      assertThat(messages).hasSizeGreaterThan(1);
      assertThat(listed).hasSize(1_198).isSortedAccordingTo(String::compareTo).doesNotHaveDuplicates();
      assertThat(messages.getLast().getNextPageToken()).isEmpty();

      var resumed = new ArrayList<String>();
      users.listUsers(ListUsersRequest.newBuilder()
              .setPageToken(messages.getFirst().getNextPageToken()).setPageSize(5).build())
          .forEachRemaining(m -> m.getUsersList().forEach(u -> resumed.add(u.getId())));
      int firstMessageSize = messages.getFirst().getUsersCount();
      assertThat(resumed).containsExactlyElementsOf(listed.subList(firstMessageSize, firstMessageSize + 5));
    }

    @Test
    void echoesTheCallersRequestIdEvenOnErrors() {
      var sent = new Metadata();
      sent.put(Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER), "trace-me-42");
      var headers = new AtomicReference<Metadata>();
      var trailers = new AtomicReference<Metadata>();
      var stub = users.withInterceptors(
          MetadataUtils.newAttachHeadersInterceptor(sent),
          MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));

      assertStatus(() -> stub.getUser(GetUserRequest.newBuilder().setId("0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8b").build()),
          Status.Code.NOT_FOUND);

      var key = Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);
      var echoed = headers.get() != null && headers.get().containsKey(key) ? headers.get() : trailers.get();
      assertThat(echoed.get(key)).isEqualTo("trace-me-42");
    }

    @Test
    void offersReflectionOutsideProduction() throws Exception {
      assertThat(reflectedServices(channel)).contains("users.v1.UserService", "grpc.health.v1.Health");
    }

    /**
     * The listing is several times larger than the client's flow-control window and the client
     * takes one message before shutdown begins, so the server cannot have sent it all: the call is
     * still running on the server when {@code stop()} starts, and must finish complete and OK.
     */
    @Test
    void aListingInFlightWhenShutdownBeginsFinishesCompleteWhileNewCallsAreRefused() throws Exception {
      int userCount = 3_000;
      var batch = new ArrayList<ImportUsersRequest>();
      for (int i = 0; i < userCount; i++) {
        batch.add(ImportUsersRequest.newBuilder().setEmail("u" + i + "@example.org").setDisplayName("U" + i).build());
      }
      assertThat(importUsers(batch).getCreatedCount()).isEqualTo(userCount);

      // A fixed window (no automatic growth) keeps what the server can send ahead small and known.
      int window = 64 * 1024;
      var listingChannel = NettyChannelBuilder.forAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
          .flowControlWindow(window)
          .build();
      try {
        var listing = SlowListing.start(listingChannel, ListUsersRequest.getDefaultInstance());
        listing.takeOne();

        var stopping = CompletableFuture.runAsync(server::stop);
        // Health turns NOT_SERVING first, then the server stops taking calls: wait for the latter.
        var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        await(() -> {
          try {
            health.check(HealthCheckRequest.getDefaultInstance());
            return false;
          } catch (StatusRuntimeException e) {
            return e.getStatus().getCode() == Status.Code.UNAVAILABLE;
          }
        });
        assertStatus(() -> create("late@example.org", "Late"), Status.Code.UNAVAILABLE);
        assertThat(stopping).as("stop() waits for the listing the client has not read yet").isNotDone();

        var outcome = listing.readToEnd();
        assertThat(outcome.status().isOk()).as(outcome.status().toString()).isTrue();
        assertThat(outcome.userIds()).hasSize(userCount).doesNotHaveDuplicates();
        assertThat(outcome.bytes()).as("the listing is far larger than what the server could send ahead")
            .isGreaterThan(4L * window);
        stopping.get(10, TimeUnit.SECONDS);
      } finally {
        listingChannel.shutdownNow();
      }
    }

    User create(String email, String displayName) {
      return users.createUser(CreateUserRequest.newBuilder().setEmail(email).setDisplayName(displayName).build())
          .getUser();
    }

    ImportUsersResponse importUsers(List<ImportUsersRequest> items) throws Exception {
      return UsersServiceEndToEndTest.importUsers(channel, items);
    }
  }

  static ImportUsersResponse importUsers(Channel channel, List<ImportUsersRequest> items) throws Exception {
    var result = new CompletableFuture<ImportUsersResponse>();
    var requests = UserServiceGrpc.newStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .importUsers(completing(result));
    items.forEach(requests::onNext);
    requests.onCompleted();
    return result.get(30, TimeUnit.SECONDS);
  }

  static List<String> reflectedServices(ManagedChannel channel) throws Exception {
    var result = new CompletableFuture<ServerReflectionResponse>();
    var requests = ServerReflectionGrpc.newStub(channel).serverReflectionInfo(completing(result));
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    var response = result.get(10, TimeUnit.SECONDS);
    requests.onCompleted();
    return response.getListServicesResponse().getServiceList().stream().map(s -> s.getName()).toList();
  }

  /** What production changes, and only that: reflection is off; the API and health serve as anywhere. */
  @Nested
  class InProduction {

    private UsersServer server;
    private ManagedChannel channel;

    @BeforeEach
    void startServer() {
      server = UsersServer.start(Config.from(Map.of(
          "USERS_STORAGE", "memory",
          "USERS_GRPC_PORT", "0",
          "USERS_ENV", "production",
          "USERS_ALLOW_PLAINTEXT", "true",
          "USERS_AUTH", "none")));
      channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
          .build();
    }

    @AfterEach
    void stopServer() throws InterruptedException {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.stop();
    }

    @Test
    void refusesReflection() {
      var e = assertThatThrownBy(() -> reflectedServices(channel)).cause();
      e.isInstanceOfSatisfying(StatusRuntimeException.class,
          sre -> assertThat(sre.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
    }

    @Test
    void servesTheUserApiAndHealthAsOutsideProduction() {
      var users = UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      var created = users.createUser(
          CreateUserRequest.newBuilder().setEmail("ada@example.org").setDisplayName("Ada").build()).getUser();

      assertThat(users.getUser(GetUserRequest.newBuilder().setId(created.getId()).build()).getUser())
          .isEqualTo(created);
      assertThat(HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.newBuilder().setService("users.v1.UserService").build()).getStatus())
          .isEqualTo(ServingStatus.SERVING);
    }
  }

  /** TLS with a certificate for localhost that {@link TestPki} issues for the test. */
  @Nested
  class OverTls {

    private final TestPki.Authority ca = TestPki.Authority.named("test CA");
    private UsersServer server;

    @BeforeEach
    void startServer(@TempDir Path dir) {
      var certificate = dir.resolve("server.pem");
      var key = dir.resolve("server.key");
      ca.server("localhost").writeTo(certificate, key);
      server = UsersServer.start(Config.from(Map.of(
          "USERS_STORAGE", "memory",
          "USERS_GRPC_PORT", "0",
          "USERS_TLS_CERT_FILE", certificate.toString(),
          "USERS_TLS_KEY_FILE", key.toString())));
    }

    @AfterEach
    void stopServer() {
      server.stop();
    }

    @Test
    void servesClientsThatTrustItsCertificate() throws Exception {
      var credentials = TlsChannelCredentials.newBuilder()
          .trustManager(new ByteArrayInputStream(ca.certificatePem().getBytes(StandardCharsets.US_ASCII)))
          .build();
      var channel = Grpc.newChannelBuilderForAddress("localhost", server.port(), credentials).build();
      try {
        var status = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus();
        assertThat(status).isEqualTo(ServingStatus.SERVING);
      } finally {
        channel.shutdownNow();
      }
    }

    @Test
    void refusesPlaintextClients() {
      var channel = Grpc.newChannelBuilderForAddress("localhost", server.port(), InsecureChannelCredentials.create())
          .build();
      try {
        assertStatus(() -> HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()), Status.Code.UNAVAILABLE);
      } finally {
        channel.shutdownNow();
      }
    }
  }

  static StatusRuntimeException assertStatus(Runnable call, Status.Code expected) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(expected);
      return e;
    }
    throw new AssertionError("expected " + expected + " but the call succeeded");
  }

  static <T extends com.google.protobuf.Message> T detail(StatusRuntimeException e, Class<T> type) {
    var status = StatusProto.fromThrowable(e);
    assertThat(status).isNotNull();
    return status.getDetailsList().stream()
        .filter(any -> any.is(type))
        .map(any -> {
          try {
            return any.unpack(type);
          } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
            throw new AssertionError(ex);
          }
        })
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " in " + status));
  }

  /** Completes {@code result} with the first response, or with the call's failure. */
  static <T> StreamObserver<T> completing(CompletableFuture<T> result) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        result.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        result.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    };
  }

  static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 10 s");
      }
      Thread.sleep(20);
    }
  }
}
