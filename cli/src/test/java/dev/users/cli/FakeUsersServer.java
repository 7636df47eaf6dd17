package dev.users.cli;

import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.CreateUserResponse;
import dev.users.api.v1.DeleteUserRequest;
import dev.users.api.v1.DeleteUserResponse;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.GetUserResponse;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.ListUsersResponse;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.UpdateUserResponse;
import dev.users.api.v1.User;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * A stand-in for the service on a loopback port, so that the CLI is run as a user runs it, with
 * {@code --target} and {@code --plaintext}. It answers from a fixed directory, records requests
 * and authorization headers, and fails a method with the status it was told to.
 */
final class FakeUsersServer extends UserServiceGrpc.UserServiceImplBase implements AutoCloseable {

  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Server server;
  private final List<User> directory;
  private final Map<String, StatusRuntimeException> failures = new ConcurrentHashMap<>();
  private final Map<String, List<Object>> requests = new ConcurrentHashMap<>();
  final List<String> authorizations = new CopyOnWriteArrayList<>();
  final HealthStatusManager health = new HealthStatusManager();

  FakeUsersServer(List<User> directory) {
    this.directory = List.copyOf(directory);
    ServerInterceptor recordAuthorization = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        authorizations.add(String.valueOf(headers.get(AUTHORIZATION)));
        return next.startCall(call, headers);
      }
    };
    try {
      server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
          .addService(ServerInterceptors.intercept(this, recordAuthorization))
          .addService(health.getHealthService())
          .build()
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String target() {
    return "localhost:" + server.getPort();
  }

  /** Every later call of {@code method} fails with {@code failure}. */
  FakeUsersServer fail(String method, StatusRuntimeException failure) {
    failures.put(method, failure);
    return this;
  }

  @SuppressWarnings("unchecked")
  <T> List<T> requests(String method) {
    return (List<T>) List.copyOf(requests.getOrDefault(method, List.of()));
  }

  static User user(int number) {
    return User.newBuilder()
        .setId("0190a000-0000-7000-8000-%012d".formatted(number))
        .setEmail("user" + number + "@example.com")
        .setDisplayName("User " + number)
        .setEtag("etag-" + number)
        .build();
  }

  @Override
  public void createUser(CreateUserRequest request, StreamObserver<CreateUserResponse> responses) {
    answer("CreateUser", request, responses, () -> CreateUserResponse.newBuilder()
        .setUser(user(1).toBuilder().setEmail(request.getEmail()).setDisplayName(request.getDisplayName()))
        .build());
  }

  @Override
  public void getUser(GetUserRequest request, StreamObserver<GetUserResponse> responses) {
    answer("GetUser", request, responses, () -> GetUserResponse.newBuilder()
        .setUser(directory.stream().filter(user -> user.getId().equals(request.getId())).findFirst().orElseThrow())
        .build());
  }

  @Override
  public void updateUser(UpdateUserRequest request, StreamObserver<UpdateUserResponse> responses) {
    answer("UpdateUser", request, responses, () -> UpdateUserResponse.newBuilder().setUser(request.getUser()).build());
  }

  @Override
  public void deleteUser(DeleteUserRequest request, StreamObserver<DeleteUserResponse> responses) {
    answer("DeleteUser", request, responses, DeleteUserResponse::getDefaultInstance);
  }

  @Override
  public void listUsers(ListUsersRequest request, StreamObserver<ListUsersResponse> responses) {
    answer("ListUsers", request, responses, () -> {
      // The first page_size users in one message, with the token of the rest when some follow.
      int size = request.getPageSize() == 0 ? directory.size() : Math.min(request.getPageSize(), directory.size());
      var page = ListUsersResponse.newBuilder().addAllUsers(directory.subList(0, size));
      if (size < directory.size()) {
        page.setNextPageToken(directory.get(size - 1).getId());
      }
      return page.build();
    });
  }

  /** Rejects every item whose email has no {@code @}, as the service does, naming the field. */
  @Override
  public StreamObserver<ImportUsersRequest> importUsers(StreamObserver<ImportUsersResponse> responses) {
    var outcome = ImportUsersResponse.newBuilder();
    return new StreamObserver<>() {
      private long index;

      @Override
      public void onNext(ImportUsersRequest item) {
        record("ImportUsers", item);
        if (item.getEmail().contains("@")) {
          outcome.setCreatedCount(outcome.getCreatedCount() + 1);
        } else {
          outcome.setRejectedCount(outcome.getRejectedCount() + 1).addFailures(ImportUsersResponse.Failure.newBuilder()
              .setIndex(index)
              .setStatus(com.google.rpc.Status.newBuilder()
                  .setCode(Status.Code.INVALID_ARGUMENT.value())
                  .setMessage("email: must contain exactly one '@'")));
        }
        index++;
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        responses.onNext(outcome.build());
        responses.onCompleted();
      }
    };
  }

  private <T> void answer(String method, Object request, StreamObserver<T> responses,
      Supplier<T> response) {
    record(method, request);
    var failure = failures.get(method);
    if (failure != null) {
      responses.onError(failure);
      return;
    }
    responses.onNext(response.get());
    responses.onCompleted();
  }

  private void record(String method, Object request) {
    requests.computeIfAbsent(method, m -> new CopyOnWriteArrayList<>()).add(request);
  }

  @Override
  public void close() {
    server.shutdownNow();
  }
}
