package dev.users.bootstrap;

import com.google.protobuf.FieldMask;
import dev.users.adapter.persistence.StorageStartupException;
import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.DeleteUserRequest;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run the JDK's AOT cache is trained on ({@code bin/users-service --aot-training}, which the
 * build does after packaging the jar): the service starts as it does in production, in a schema of
 * its own that it migrates from scratch and drops at the end, answers every RPC over a real
 * plain-text socket, its usual errors included, and stops. The classes it loads and links, and
 * the methods it profiles, are what the JDK stores in the cache, so that a start-up with the cache
 * finds them ready.
 *
 * <p>Without a reachable PostgreSQL (a build with no database) it trains on in-memory storage,
 * which leaves Flyway, pgjdbc, HikariCP and JDBI out of the cache: the service still starts with
 * it, only less fast. A call that does not end as the API documents fails the training, and so the
 * build: a cache trained on a broken service is worth nothing.
 */
final class AotTraining {

  /** The argument of {@link Main} that runs this instead of the service. */
  static final String ARGUMENT = "--aot-training";

  private static final Logger log = LoggerFactory.getLogger(AotTraining.class);

  /** Enough rounds for the JIT to profile the unary paths; the whole run stays around a second. */
  private static final int ROUNDS = 200;

  private static final long DEADLINE_SECONDS = 10;

  private AotTraining() {}

  /**
   * What the training ran on and how many calls it made.
   *
   * @param schema the PostgreSQL schema it made and dropped; empty on in-memory storage
   */
  record Outcome(Config.StorageKind storage, String schema, int calls) {}

  /**
   * Trains on the database of {@code env}'s {@code USERS_DB_URL}, {@code USERS_DB_USER} and
   * {@code USERS_DB_PASSWORD} (the service's defaults when unset); every other setting is the
   * service's default, on a free port.
   *
   * @throws IllegalStateException when a call does not end as the API documents
   */
  static Outcome run(Map<String, String> env) {
    var schema = "users_aot_training_" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    var settings = new HashMap<String, String>();
    for (var name : new String[] {"USERS_DB_URL", "USERS_DB_USER", "USERS_DB_PASSWORD"}) {
      if (env.containsKey(name)) {
        settings.put(name, env.get(name));
      }
    }
    settings.put("USERS_GRPC_PORT", "0");
    // Hundreds of access lines would bury the build's output; the access log still runs, below its level.
    if (LoggerFactory.getLogger("access") instanceof ch.qos.logback.classic.Logger access) {
      access.setLevel(ch.qos.logback.classic.Level.WARN);
    }
    settings.put("USERS_DB_SCHEMA", schema);
    var config = Config.from(settings);
    UsersServer server;
    try {
      server = UsersServer.start(config);
    } catch (StorageStartupException e) {
      log.warn("AOT training on in-memory storage, without PostgreSQL: {}", e.getMessage());
      settings.put("USERS_STORAGE", "memory");
      config = Config.from(settings);
      server = UsersServer.start(config);
    }
    try {
      int calls = exercise(server.port());
      log.info("AOT training made {} calls on {} storage", calls, config.storage().name().toLowerCase(Locale.ROOT));
      return new Outcome(config.storage(), config.storage() == Config.StorageKind.POSTGRES ? schema : "", calls);
    } finally {
      server.stop();
      if (config.storage() == Config.StorageKind.POSTGRES) {
        dropSchema(config, schema);
      }
    }
  }

  private static int exercise(int port) {
    ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create())
        .build();
    try {
      int calls = 0;
      var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
      for (var service : new String[] {"", UserServiceGrpc.SERVICE_NAME}) {
        var status = health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
        if (status != ServingStatus.SERVING) {
          throw new IllegalStateException("health of \"" + service + "\" is " + status + " after start-up");
        }
        calls++;
      }
      var users = UserServiceGrpc.newBlockingStub(channel);
      var run = UUID.randomUUID().toString();
      for (int i = 0; i < ROUNDS; i++) {
        var created = users.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS).createUser(CreateUserRequest.newBuilder()
            .setEmail("training-" + i + "@example.org")
            .setDisplayName("Training " + i)
            .setIdempotencyKey(run + "-" + i)
            .build()).getUser();
        users.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
            .getUser(GetUserRequest.newBuilder().setId(created.getId()).build());
        calls += 2;
        if (i % 10 == 0) {
          var updated = users.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS).updateUser(UpdateUserRequest.newBuilder()
              .setUser(created.toBuilder().setDisplayName("Trained " + i))
              .setUpdateMask(FieldMask.newBuilder().addPaths("display_name"))
              .build()).getUser();
          users.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS).deleteUser(DeleteUserRequest.newBuilder()
              .setId(updated.getId()).setEtag(updated.getEtag()).build());
          calls += 2;
        }
      }
      var listed = users.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
          .listUsers(ListUsersRequest.newBuilder().setPageSize(50).build());
      while (listed.hasNext()) {
        listed.next();
      }
      calls++;
      calls += importUsers(channel);
      expect(Status.Code.NOT_FOUND, () -> users.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
          .getUser(GetUserRequest.newBuilder().setId(UUID.randomUUID().toString()).build()));
      expect(Status.Code.INVALID_ARGUMENT, () -> users.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
          .createUser(CreateUserRequest.newBuilder().setEmail("not an email").setDisplayName("Nobody").build()));
      expect(Status.Code.ALREADY_EXISTS, () -> users.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
          .createUser(CreateUserRequest.newBuilder().setEmail("training-1@example.org").setDisplayName("Again").build()));
      return calls + 3;
    } finally {
      channel.shutdownNow();
    }
  }

  /** One stream of new users with one invalid among them; returns the calls made (one). */
  private static int importUsers(ManagedChannel channel) {
    var response = new CompletableFuture<ImportUsersResponse>();
    var requests = UserServiceGrpc.newStub(channel).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
        .importUsers(new StreamObserver<>() {
          @Override
          public void onNext(ImportUsersResponse value) {
            response.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            response.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    for (int i = 0; i < 50; i++) {
      requests.onNext(ImportUsersRequest.newBuilder()
          .setEmail(i == 25 ? "not an email" : "imported-" + i + "@example.org")
          .setDisplayName("Imported " + i)
          .build());
    }
    requests.onCompleted();
    try {
      var result = response.get(DEADLINE_SECONDS, TimeUnit.SECONDS);
      if (result.getCreatedCount() != 49 || result.getRejectedCount() != 1) {
        throw new IllegalStateException("ImportUsers created " + result.getCreatedCount() + " and rejected "
            + result.getRejectedCount() + " of 49 valid and 1 invalid users");
      }
      return 1;
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("ImportUsers failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while importing", e);
    }
  }

  private static void expect(Status.Code code, Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == code) {
        return;
      }
      throw new IllegalStateException("expected " + code + ", got " + e.getStatus(), e);
    }
    throw new IllegalStateException("expected " + code + ", got OK");
  }

  private static void dropSchema(Config config, String schema) {
    var source = new PGSimpleDataSource();
    source.setURL(config.postgres().jdbcUrl());
    source.setUser(config.postgres().user());
    source.setPassword(config.postgres().password());
    try (var connection = source.getConnection(); var statement = connection.createStatement()) {
      statement.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    } catch (SQLException e) {
      log.warn("AOT training could not drop its schema {}: {}", schema, e.getMessage());
    }
  }
}
