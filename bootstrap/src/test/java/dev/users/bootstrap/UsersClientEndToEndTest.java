package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.FieldMask;
import com.google.rpc.BadRequest;
import dev.users.adapter.grpc.TestTokens;
import dev.users.adapter.persistence.PostgresTestDatabase;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.User;
import dev.users.client.UsersClient;
import dev.users.client.UsersClientException;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link UsersClient} against the assembled service as production runs it: Netty on a real socket,
 * TLS with a CA of the test's own, a client certificate required, bearer JWTs, PostgreSQL. Each
 * failure the server can answer arrives as its typed exception, carrying the request id under
 * which the server logged the call.
 */
class UsersClientEndToEndTest {

  private static final TestTokens ISSUER = TestTokens.withKey("key-1");
  private static final TestPki.Authority SERVER_CA = TestPki.Authority.named("server CA");
  private static final TestPki.Authority CLIENT_CA = TestPki.Authority.named("client CA");
  private static final AtomicInteger EMAILS = new AtomicInteger();

  @TempDir
  static Path dir;

  private static PostgresTestDatabase database;
  private static String schema;
  private static UsersServer server;
  private static UsersClient admin;
  private static UsersClient reader;
  private static UsersClient anonymous;

  @BeforeAll
  static void startServer() {
    database = PostgresTestDatabase.get();
    schema = database.newSchemaName();
    var serverCertificate = dir.resolve("server.pem");
    var serverKey = dir.resolve("server.key");
    SERVER_CA.server("users-service").writeTo(serverCertificate, serverKey);
    var clientCas = dir.resolve("client-ca.pem");
    TestPki.replace(clientCas, CLIENT_CA.certificatePem());
    server = UsersServer.start(Config.from(Map.ofEntries(
        Map.entry("USERS_ENV", "production"),
        Map.entry("USERS_GRPC_PORT", "0"),
        Map.entry("USERS_STORAGE", "postgres"),
        Map.entry("USERS_DB_URL", database.jdbcUrl()),
        Map.entry("USERS_DB_USER", database.user()),
        Map.entry("USERS_DB_PASSWORD", database.password()),
        Map.entry("USERS_DB_SCHEMA", schema),
        Map.entry("USERS_TLS_CERT_FILE", serverCertificate.toString()),
        Map.entry("USERS_TLS_KEY_FILE", serverKey.toString()),
        Map.entry("USERS_TLS_CLIENT_AUTH", "require"),
        Map.entry("USERS_TLS_CLIENT_CA_FILE", clientCas.toString()),
        Map.entry("USERS_AUTH", "jwt"),
        Map.entry("USERS_AUTH_JWKS_FILE", ISSUER.writeJwks(dir.resolve("jwks.json")).toString()),
        Map.entry("USERS_AUTH_ISSUER", TestTokens.ISSUER),
        Map.entry("USERS_AUTH_AUDIENCE", TestTokens.AUDIENCE))));

    var trusted = dir.resolve("server-ca.pem");
    TestPki.replace(trusted, SERVER_CA.certificatePem());
    var clientCertificate = dir.resolve("client.pem");
    var clientKey = dir.resolve("client.key");
    CLIENT_CA.client("users-client").writeTo(clientCertificate, clientKey);
    Supplier<UsersClient.Builder> tls = () -> UsersClient.forTarget("localhost:" + server.port())
        .trustedCertificates(trusted)
        .clientCertificate(clientCertificate, clientKey);
    // A supplier that signs a fresh token for every call, as a refreshing one would.
    admin = tls.get().bearerToken(() -> ISSUER.token("ops", "users.admin").sign()).build();
    reader = tls.get().bearerToken(() -> ISSUER.token("reporting", "users.read").sign()).build();
    anonymous = tls.get().build();
  }

  @AfterAll
  static void stopServer() {
    for (var client : List.of(admin, reader, anonymous)) {
      client.close();
    }
    server.stop();
    database.dropSchema(schema);
  }

  @Test
  void aUserMadeThroughTheClientIsReadChangedListedAndImportedAlongside() {
    var created = admin.createUser(freshEmail(), "Ada");

    assertThat(admin.getUser(created.getId())).isEqualTo(created);

    var renamed = admin.updateUser(UpdateUserRequest.newBuilder()
        .setUser(User.newBuilder().setId(created.getId()).setEtag(created.getEtag()).setDisplayName("Ada L."))
        .setUpdateMask(FieldMask.newBuilder().addPaths("display_name"))
        .build());
    assertThat(renamed.getDisplayName()).isEqualTo("Ada L.");
    assertThat(renamed.getEtag()).isNotEqualTo(created.getEtag());

    var imported = freshEmail();
    var outcome = admin.importUsers(List.of(
        ImportUsersRequest.newBuilder().setEmail(imported).setDisplayName("Imported").build(),
        ImportUsersRequest.newBuilder().setEmail("not an email").setDisplayName("Bad").build()));
    assertThat(outcome.createdCount()).isEqualTo(1);
    assertThat(outcome.rejectedCount()).isEqualTo(1);
    assertThat(outcome.failures()).singleElement().satisfies(failure -> {
      assertThat(failure.index()).isEqualTo(1);
      assertThat(failure.error()).isInstanceOf(UsersClientException.InvalidArgument.class);
    });

    try (var everyone = reader.listUsers()) {
      assertThat(everyone.toList())
          .filteredOn(user -> user.getId().equals(created.getId()) || user.getEmail().equals(imported))
          .extracting(User::getDisplayName)
          .containsExactly("Ada L.", "Imported");
    }
  }

  @Test
  void aTakenEmailIsEmailTaken() {
    var email = freshEmail();
    admin.createUser(email, "First");

    var failure = failureOf(UsersClientException.EmailTaken.class,
        () -> admin.createUser(email.toUpperCase(), "Second"));

    assertThat(failure.code()).isEqualTo(Status.Code.ALREADY_EXISTS);
  }

  @Test
  void anIdNobodyHasIsNotFound() {
    var id = UUID.randomUUID().toString();

    var failure = failureOf(UsersClientException.NotFound.class, () -> admin.getUser(id));

    assertThat(failure.resourceName()).contains(id);
  }

  @Test
  void anEtagReadBeforeAnotherChangeIsEtagMismatch() {
    var created = admin.createUser(freshEmail(), "Ada");
    admin.updateUser(rename(created, "Changed first"));

    var failure = failureOf(UsersClientException.EtagMismatch.class, () -> admin.updateUser(rename(created, "Too late")));

    assertThat(failure.code()).isEqualTo(Status.Code.ABORTED);
    assertThat(admin.getUser(created.getId()).getDisplayName()).isEqualTo("Changed first");
  }

  @Test
  void invalidFieldsAreInvalidArgumentWithOneViolationPerField() {
    var failure = failureOf(UsersClientException.InvalidArgument.class, () -> admin.createUser("not an email", ""));

    assertThat(failure.violations()).extracting(BadRequest.FieldViolation::getField)
        .containsExactlyInAnyOrder("email", "display_name");
  }

  @Test
  void aReadOnlyTokenMayReadButNotWrite() {
    var created = admin.createUser(freshEmail(), "Ada");
    assertThat(reader.getUser(created.getId())).isEqualTo(created);

    var failure = failureOf(UsersClientException.PermissionDenied.class, () -> reader.createUser(freshEmail(), "Eve"));

    assertThat(failure.code()).isEqualTo(Status.Code.PERMISSION_DENIED);
  }

  @Test
  void aCallWithoutATokenIsUnauthenticatedEvenWithAClientCertificate() {
    var failure = failureOf(UsersClientException.Unauthenticated.class, () -> anonymous.listUsers(5, "").toList());

    assertThat(failure.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  /** The typed failure of {@code call}, which carries the request id the server logged it under. */
  private static <T extends UsersClientException> T failureOf(Class<T> type, Runnable call) {
    var failure = catchThrowableOfType(type, call::run);
    assertThat(failure).as("%s thrown", type.getSimpleName()).isNotNull();
    assertThat(failure.requestId()).as("request id of %s", failure).hasValueSatisfying(id -> assertThat(id).isNotBlank());
    assertThat(failure).hasMessageContaining(failure.requestId().orElseThrow());
    return failure;
  }

  private static UpdateUserRequest rename(User user, String displayName) {
    return UpdateUserRequest.newBuilder()
        .setUser(User.newBuilder().setId(user.getId()).setEtag(user.getEtag()).setDisplayName(displayName))
        .setUpdateMask(FieldMask.newBuilder().addPaths("display_name"))
        .build();
  }

  private static String freshEmail() {
    return "client" + EMAILS.incrementAndGet() + "@example.org";
  }
}
