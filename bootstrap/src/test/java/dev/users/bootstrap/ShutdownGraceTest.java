package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.users.adapter.persistence.PostgresTestDatabase;
import dev.users.adapter.persistence.TableLock;
import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A call still running when the shutdown grace ends: it gets UNAVAILABLE, which clients retry on
 * another replica, rather than the CANCELLED of a stream cut by grpc-java's forced shutdown.
 */
class ShutdownGraceTest {

  private final PostgresTestDatabase database = PostgresTestDatabase.get();
  private final String schema = database.newSchemaName();
  private UsersServer server;
  private ManagedChannel channel;

  @AfterEach
  void release() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.stop();
    }
    database.dropSchema(schema);
  }

  @Test
  void aCallOutlivingTheGraceEndsUnavailableAndShutdownGoesOn() throws Exception {
    server = UsersServer.start(Config.from(Map.of(
        "USERS_GRPC_PORT", "0",
        "USERS_STORAGE", "postgres",
        "USERS_DB_URL", database.jdbcUrl(),
        "USERS_DB_USER", database.user(),
        "USERS_DB_PASSWORD", database.password(),
        "USERS_DB_SCHEMA", schema,
        "USERS_DB_STATEMENT_TIMEOUT", "1h",
        "USERS_SHUTDOWN_GRACE", "500ms")));
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create()).build();
    var users = UserServiceGrpc.newFutureStub(channel);
    var id = users.withDeadlineAfter(10, TimeUnit.SECONDS).createUser(CreateUserRequest.newBuilder()
        .setEmail("ada@example.org").setDisplayName("Ada").build()).get().getUser().getId();

    try (var locker = TableLock.ofReadsAndWrites(database, schema)) {
      var held = users.withDeadlineAfter(1, TimeUnit.MINUTES).getUser(GetUserRequest.newBuilder().setId(id).build());
      locker.awaitWaitingStatements(n -> n == 1, "the GetUser statement to wait for the lock");

      long start = System.nanoTime();
      server.stop();
      long stopped = System.nanoTime();

      var failure = catchThrowableOfType(ExecutionException.class, () -> held.get(10, TimeUnit.SECONDS));
      assertThat(failure).as("the held call failed").isNotNull();
      assertThat(Status.fromThrowable(failure.getCause()).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(((StatusRuntimeException) failure.getCause()).getStatus().getDescription())
          .isEqualTo("the server is shutting down; retry on another instance");
      assertThat(Duration.ofNanos(stopped - start)).as("stop() returns soon after the grace")
          .isLessThan(Duration.ofSeconds(5));
      locker.release();
    }
  }
}
