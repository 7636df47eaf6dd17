package dev.users.adapter.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.CreateUserResponse;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.GetUserResponse;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.ListUsersResponse;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.UpdateUserResponse;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CallThreadsTest {

  private final ExecutorService blocking = Executors.newThreadPerTaskExecutor(
      Thread.ofPlatform().name("blocking-", 0).daemon().factory());
  private final AtomicReference<String> getUserThread = new AtomicReference<>();
  private final AtomicReference<String> createUserThread = new AtomicReference<>();
  private final AtomicReference<String> updateUserThread = new AtomicReference<>();
  private final AtomicReference<String> listUsersThread = new AtomicReference<>();
  private final AtomicReference<String> healthThread = new AtomicReference<>();
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    blocking.shutdownNow();
  }

  @Test
  void getUserCreateUserAndHealthRunInTheTransportsThreadListUsersOnListingThreadsAndTheRestOnTheBlockingExecutor()
      throws Exception {
    var name = InProcessServerBuilder.generateName();
    var builder = InProcessServerBuilder.forName(name).addService(new UserServiceGrpc.UserServiceImplBase() {
      @Override
      public void getUser(GetUserRequest request, StreamObserver<GetUserResponse> responses) {
        getUserThread.set(Thread.currentThread().getName());
        responses.onNext(GetUserResponse.getDefaultInstance());
        responses.onCompleted();
      }

      @Override
      public void listUsers(ListUsersRequest request, StreamObserver<ListUsersResponse> responses) {
        listUsersThread.set(Thread.currentThread().getName());
        responses.onCompleted();
      }

      @Override
      public void createUser(CreateUserRequest request, StreamObserver<CreateUserResponse> responses) {
        createUserThread.set(Thread.currentThread().getName());
        responses.onNext(CreateUserResponse.getDefaultInstance());
        responses.onCompleted();
      }

      @Override
      public void updateUser(UpdateUserRequest request, StreamObserver<UpdateUserResponse> responses) {
        updateUserThread.set(Thread.currentThread().getName());
        responses.onNext(UpdateUserResponse.getDefaultInstance());
        responses.onCompleted();
      }
    });
    builder.addService(new HealthGrpc.HealthImplBase() {
      @Override
      public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> responses) {
        healthThread.set(Thread.currentThread().getName());
        responses.onNext(HealthCheckResponse.getDefaultInstance());
        responses.onCompleted();
      }
    });
    CallThreads.installOn(builder, blocking, 2);
    server = builder.build().start();
    channel = InProcessChannelBuilder.forName(name).build();
    var stub = UserServiceGrpc.newBlockingStub(channel);

    stub.getUser(GetUserRequest.getDefaultInstance());
    HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance());
    stub.createUser(CreateUserRequest.getDefaultInstance());
    stub.updateUser(UpdateUserRequest.getDefaultInstance());
    stub.listUsers(ListUsersRequest.getDefaultInstance()).forEachRemaining(response -> { });

    // The in-process transport delivers a call in the thread that starts it: the caller's.
    assertThat(getUserThread.get()).isEqualTo(Thread.currentThread().getName());
    assertThat(healthThread.get()).isEqualTo(Thread.currentThread().getName());
    assertThat(createUserThread.get()).isEqualTo(Thread.currentThread().getName());
    assertThat(updateUserThread.get()).startsWith("blocking-");
    assertThat(listUsersThread.get()).startsWith("users-listing-");
  }
}
