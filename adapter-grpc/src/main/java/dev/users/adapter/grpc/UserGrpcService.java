package dev.users.adapter.grpc;

import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.CreateUserResponse;
import dev.users.api.v1.DeleteUserRequest;
import dev.users.api.v1.DeleteUserResponse;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.GetUserResponse;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.UpdateUserResponse;
import dev.users.api.v1.UserServiceGrpc;
import dev.users.application.access.Caller;
import dev.users.application.access.NotAuthenticatedException;
import dev.users.application.delete.DeleteUser;
import dev.users.application.delete.DeleteUserCommand;
import dev.users.application.get.GetUser;
import dev.users.application.get.GetUserQuery;
import dev.users.application.importing.ImportUsers;
import dev.users.application.list.ListUsers;
import dev.users.application.register.RegisterUser;
import dev.users.application.register.RegisterUserCommand;
import dev.users.application.update.UpdateUser;
import dev.users.application.update.UpdateUserCommand;
import io.grpc.BindableService;
import io.grpc.Context;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.MDC;

/**
 * The users.v1 API over the use cases. It only translates: requests into commands, results into
 * messages, failures into statuses (through {@link ErrorMapping}), and hands each use case the
 * {@link Caller} that authentication put in the call's Context; what that caller may do is the
 * use cases' to decide.
 */
public final class UserGrpcService implements UserServiceGrpc.AsyncService, BindableService {

  /** Fields named at the top of the request keep their names. */
  private static final UnaryOperator<String> TOP_LEVEL = UnaryOperator.identity();

  /** UpdateUser carries the user's fields inside {@code user}; only the mask sits beside it. */
  private static final UnaryOperator<String> INSIDE_USER =
      field -> field.equals("update_mask") ? field : "user." + field;

  private final RegisterUser register;
  private final GetUser get;
  private final UpdateUser update;
  private final DeleteUser delete;
  private final ListUsers list;
  private final ImportUsers importUsers;
  private final ImportLimits importLimits;

  public UserGrpcService(RegisterUser register, GetUser get, UpdateUser update, DeleteUser delete, ListUsers list,
      ImportUsers importUsers, ImportLimits importLimits) {
    this.register = register;
    this.get = get;
    this.update = update;
    this.delete = delete;
    this.list = list;
    this.importUsers = importUsers;
    this.importLimits = importLimits;
  }

  @Override
  public void createUser(CreateUserRequest request, StreamObserver<CreateUserResponse> responses) {
    respondWhenDone(responses, TOP_LEVEL,
        () -> register.register(caller(),
            RegisterUserCommand.of(request.getEmail(), request.getDisplayName(), request.getIdempotencyKey())),
        user -> CreateUserResponse.newBuilder().setUser(UserMessages.toProto(user)).build());
  }

  @Override
  public void getUser(GetUserRequest request, StreamObserver<GetUserResponse> responses) {
    respondWhenDone(responses, TOP_LEVEL, () -> get.get(caller(), GetUserQuery.of(request.getId())),
        user -> GetUserResponse.newBuilder().setUser(UserMessages.toProto(user)).build());
  }

  @Override
  public void updateUser(UpdateUserRequest request, StreamObserver<UpdateUserResponse> responses) {
    respond(responses, INSIDE_USER, () -> {
      var caller = caller();
      var user = request.getUser();
      var fields = request.hasUpdateMask() ? request.getUpdateMask().getPathsList() : List.<String>of();
      var command =
          UpdateUserCommand.of(user.getId(), user.getEtag(), user.getEmail(), user.getDisplayName(), fields);
      return UpdateUserResponse.newBuilder().setUser(UserMessages.toProto(update.update(caller, command))).build();
    });
  }

  @Override
  public void deleteUser(DeleteUserRequest request, StreamObserver<DeleteUserResponse> responses) {
    respond(responses, TOP_LEVEL, () -> {
      var caller = caller();
      delete.delete(caller, DeleteUserCommand.of(request.getId(), request.getEtag()));
      return DeleteUserResponse.getDefaultInstance();
    });
  }

  /**
   * The generated definition, but ListUsers sends its responses as {@link ListUsersResponseEncoder}
   * writes them: the same method and bytes, without building {@code ListUsersResponse}s. So the
   * generated {@code listUsers} is not overridden; nothing calls it.
   */
  @Override
  public ServerServiceDefinition bindService() {
    var generated = UserServiceGrpc.bindService(this);
    var listUsers = UserServiceGrpc.getListUsersMethod();
    var encodedListing = ServerMethodDefinition.create(
        listUsers.toBuilder(listUsers.getRequestMarshaller(), ListUsersResponseEncoder.MARSHALLER).build(),
        ServerCalls.asyncServerStreamingCall(this::listUsersEncoded));
    var descriptor = ServiceDescriptor.newBuilder(generated.getServiceDescriptor().getName())
        .setSchemaDescriptor(generated.getServiceDescriptor().getSchemaDescriptor());
    var definition = new ArrayList<ServerMethodDefinition<?, ?>>();
    for (var method : generated.getMethods()) {
      definition.add(method.getMethodDescriptor().getFullMethodName().equals(listUsers.getFullMethodName())
          ? encodedListing
          : method);
    }
    definition.forEach(method -> descriptor.addMethod(method.getMethodDescriptor()));
    var service = ServerServiceDefinition.builder(descriptor.build());
    definition.forEach(service::addMethod);
    return service.build();
  }

  private void listUsersEncoded(ListUsersRequest request, StreamObserver<ListUsersResponseEncoder.Message> responses) {
    var listing = (ServerCallStreamObserver<ListUsersResponseEncoder.Message>) responses;
    Callers.current().ifPresentOrElse(
        caller -> UserListing.start(list, caller, request, listing),
        () -> listing.onError(CallFailures.report(notAuthenticated(), TOP_LEVEL)));
  }

  @Override
  public StreamObserver<ImportUsersRequest> importUsers(StreamObserver<ImportUsersResponse> responses) {
    var results = (ServerCallStreamObserver<ImportUsersResponse>) responses;
    var caller = Callers.current();
    if (caller.isEmpty()) {
      results.onError(CallFailures.report(notAuthenticated(), TOP_LEVEL));
      return UserImport.ignoringItems();
    }
    return UserImport.start(importUsers, caller.get(), importLimits.maxItems(), results);
  }

  /**
   * The caller authentication established. Read before the request is decoded into a command, so
   * that an unauthenticated request learns nothing from validation errors. Its absence means the
   * service was wired without authentication: refused, never served as somebody.
   */
  private static Caller caller() {
    return Callers.current().orElseThrow(UserGrpcService::notAuthenticated);
  }

  private static NotAuthenticatedException notAuthenticated() {
    return new NotAuthenticatedException("no authentication step established a caller for this call");
  }

  private static <T> void respond(StreamObserver<T> responses, UnaryOperator<String> fieldPath, Supplier<T> call) {
    T response;
    try {
      response = call.get();
    } catch (RuntimeException e) {
      responses.onError(CallFailures.report(e, fieldPath));
      return;
    }
    responses.onNext(response);
    responses.onCompleted();
  }

  /**
   * {@link #respond} for a use case that answers through a stage. A stage already complete is
   * answered at once; another in the thread that completes it (storage's), with the call's gRPC
   * Context and logging context (request id, trace ids) put back for the length of the answer, as
   * they would be in a callback of the call.
   */
  private static <U, T> void respondWhenDone(StreamObserver<T> responses, UnaryOperator<String> fieldPath,
      Supplier<CompletionStage<U>> call, Function<U, T> toResponse) {
    CompletableFuture<U> pending;
    try {
      pending = call.get().toCompletableFuture();
    } catch (RuntimeException e) {
      responses.onError(CallFailures.report(e, fieldPath));
      return;
    }
    if (pending.isDone()) {
      answer(responses, fieldPath, pending, toResponse);
      return;
    }
    var context = Context.current();
    var logContext = MDC.getCopyOfContextMap();
    pending.whenComplete((result, failure) -> {
      var outerContext = context.attach();
      var outerLogContext = MDC.getCopyOfContextMap();
      setLogContext(logContext);
      try {
        answer(responses, fieldPath, pending, toResponse);
      } finally {
        setLogContext(outerLogContext);
        context.detach(outerContext);
      }
    });
  }

  private static <U, T> void answer(StreamObserver<T> responses, UnaryOperator<String> fieldPath,
      CompletableFuture<U> done, Function<U, T> toResponse) {
    if (done.state() == Future.State.FAILED) {
      var failure = done.exceptionNow();
      while (failure instanceof CompletionException && failure.getCause() != null) {
        failure = failure.getCause();
      }
      responses.onError(CallFailures.report(failure, fieldPath));
      return;
    }
    respond(responses, fieldPath, () -> toResponse.apply(done.resultNow()));
  }

  private static void setLogContext(Map<String, String> logContext) {
    if (logContext == null) {
      MDC.clear();
    } else {
      MDC.setContextMap(logContext);
    }
  }
}
