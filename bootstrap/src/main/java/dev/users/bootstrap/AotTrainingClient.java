package dev.users.bootstrap;

import com.google.protobuf.FieldMask;
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
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The calls of the AOT training, made from a JVM of their own ({@link AotTraining} starts it) so
 * that the gRPC client's classes stay out of the service's cache: the service never runs them.
 *
 * <p>Takes the port of the service in training as its one argument, prints the number of calls it
 * made on standard output, and exits with 1, the reason on standard error, when a call does not end
 * as the API documents.
 */
final class AotTrainingClient {

  /** Every unary path many times over; the whole run stays around a second. */
  private static final int ROUNDS = 200;

  private static final long DEADLINE_SECONDS = 10;

  private AotTrainingClient() {}

  public static void main(String[] args) {
    // The service's logging as it runs by default, Netty held at WARN: with none, logback's
    // fallback logs the client's Netty at DEBUG on standard output, where a line written by one of
    // its threads as the channel closes could land after the count.
    Logging.configure(Config.from(Map.of()).logs());
    try {
      System.out.println(exercise(Integer.parseInt(args[0])));
    } catch (IllegalStateException | StatusRuntimeException e) {
      System.err.println("AOT training call failed: " + e.getMessage());
      System.exit(1);
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

}
