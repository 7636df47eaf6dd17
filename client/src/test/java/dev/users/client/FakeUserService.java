package dev.users.client;

import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.CreateUserResponse;
import dev.users.api.v1.DeleteUserRequest;
import dev.users.api.v1.DeleteUserResponse;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.GetUserResponse;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.ListUsersResponse;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.UpdateUserResponse;
import dev.users.api.v1.User;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A stand-in for the server that records every attempt of every call (request and time left) and
 * fails the attempts it was told to. Its listing pages a fixed directory five users a message.
 */
class FakeUserService extends UserServiceGrpc.UserServiceImplBase {

  static final int USERS_PER_MESSAGE = 5;

  private final Map<String, List<Object>> requests = new ConcurrentHashMap<>();
  private final Map<String, ConcurrentLinkedDeque<Supplier<StatusRuntimeException>>> failures = new ConcurrentHashMap<>();
  /** Per attempt, how long its deadline had left when it arrived (null: no deadline). */
  final List<Long> remainingMillis = new CopyOnWriteArrayList<>();
  private final List<User> directory;

  FakeUserService() {
    this(List.of());
  }

  FakeUserService(List<User> directory) {
    this.directory = List.copyOf(directory);
  }

  /** The next {@code times} attempts of {@code method} fail with what {@code failure} makes. */
  FakeUserService failNext(String method, int times, Supplier<StatusRuntimeException> failure) {
    for (var i = 0; i < times; i++) {
      failures.computeIfAbsent(method, m -> new ConcurrentLinkedDeque<>()).add(failure);
    }
    return this;
  }

  int attempts(String method) {
    return requests.getOrDefault(method, List.of()).size();
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
        .setUser(User.newBuilder().setId("created").setEmail(request.getEmail()).setDisplayName(request.getDisplayName()))
        .build());
  }

  @Override
  public void getUser(GetUserRequest request, StreamObserver<GetUserResponse> responses) {
    answer("GetUser", request, responses, () -> GetUserResponse.newBuilder()
        .setUser(User.newBuilder().setId(request.getId())).build());
  }

  @Override
  public void updateUser(UpdateUserRequest request, StreamObserver<UpdateUserResponse> responses) {
    answer("UpdateUser", request, responses, () -> UpdateUserResponse.newBuilder().setUser(request.getUser()).build());
  }

  @Override
  public void deleteUser(DeleteUserRequest request, StreamObserver<DeleteUserResponse> responses) {
    answer("DeleteUser", request, responses, DeleteUserResponse::getDefaultInstance);
  }

  /**
   * Pages after the user whose id is the token. A failure queued for ListUsers breaks the call
   * after its first two messages, as a replica that goes away mid-stream does.
   */
  @Override
  public void listUsers(ListUsersRequest request, StreamObserver<ListUsersResponse> responses) {
    record("ListUsers", request);
    var failure = nextFailure("ListUsers");
    var start = request.getPageToken().isEmpty() ? 0
        : directory.stream().map(User::getId).toList().indexOf(request.getPageToken()) + 1;
    var end = request.getPageSize() == 0 ? directory.size() : Math.min(directory.size(), start + request.getPageSize());
    var sent = 0;
    for (var from = start; from < end; from += USERS_PER_MESSAGE) {
      if (failure != null && sent == 2) {
        responses.onError(failure.get());
        return;
      }
      var page = new ArrayList<>(directory.subList(from, Math.min(end, from + USERS_PER_MESSAGE)));
      var last = from + page.size() == directory.size();
      responses.onNext(ListUsersResponse.newBuilder()
          .addAllUsers(page)
          .setNextPageToken(last ? "" : page.getLast().getId())
          .build());
      sent++;
    }
    responses.onCompleted();
  }

  private <T> void answer(String method, Object request, StreamObserver<T> responses, Supplier<T> response) {
    record(method, request);
    var failure = nextFailure(method);
    if (failure != null) {
      responses.onError(failure.get());
      return;
    }
    responses.onNext(response.get());
    responses.onCompleted();
  }

  private void record(String method, Object request) {
    requests.computeIfAbsent(method, m -> new CopyOnWriteArrayList<>()).add(request);
    var deadline = Context.current().getDeadline();
    remainingMillis.add(deadline == null ? null : deadline.timeRemaining(TimeUnit.MILLISECONDS));
  }

  private Supplier<StatusRuntimeException> nextFailure(String method) {
    var queue = failures.get(method);
    return queue == null ? null : queue.poll();
  }
}
