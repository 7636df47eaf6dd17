package dev.users.adapter.grpc;

import dev.users.api.v1.UserServiceGrpc;
import dev.users.application.delete.DeleteUser;
import dev.users.application.access.Caller;
import dev.users.application.get.GetUser;
import dev.users.application.get.GetUserQuery;
import dev.users.application.importing.ImportUsers;
import dev.users.application.list.ListUsers;
import dev.users.application.register.RegisterUser;
import dev.users.application.register.RegisterUserCommand;
import dev.users.application.update.UpdateUser;
import dev.users.domain.User;
import io.grpc.BindableService;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The service with the server's interceptors over the in-process transport, started on first
 * use and shut down after each test. Every use case fails the test unless the test provides it.
 * Unless told otherwise it authenticates nobody, so every call acts as an administrator.
 */
final class InProcessUserService implements AfterEachCallback {

  private RegisterUser register = (caller, command) -> {
    throw new AssertionError("CreateUser was not expected to reach its use case");
  };
  private GetUser get = (caller, query) -> {
    throw new AssertionError("GetUser was not expected to reach its use case");
  };
  private UpdateUser update = (caller, command) -> {
    throw new AssertionError("UpdateUser was not expected to reach its use case");
  };
  private DeleteUser delete = (caller, command) -> {
    throw new AssertionError("DeleteUser was not expected to reach its use case");
  };
  private ListUsers list = (caller, query, each) -> {
    throw new AssertionError("ListUsers was not expected to reach its use case");
  };
  private ImportUsers importUsers = (caller, items) -> {
    throw new AssertionError("ImportUsers was not expected to reach its use case");
  };
  private AuthenticationInterceptor authentication = AuthenticationInterceptor.none();
  private DeadlinePolicy deadlines = DeadlinePolicy.defaultingTo(Duration.ofMinutes(1));
  private Optional<RateLimit> rateLimit = Optional.empty();
  /** Far above what any test sends or waits, unless a test sets its own. */
  private ImportLimits importLimits = new ImportLimits(1_000_000, Duration.ofDays(1));
  private final List<ServerInterceptor> innermost = new ArrayList<>();
  private final List<ServerInterceptor> aroundUsersApi = new ArrayList<>();
  private final List<ServerServiceDefinition> others = new ArrayList<>();
  private BindableService replacement;

  private final AtomicInteger callsNotEnded = new AtomicInteger();
  private ScheduledExecutorService scheduler;
  private Server server;
  private ManagedChannel channel;

  /** CreateUser answered in the handler's thread: {@code registration}'s user, or what it throws. */
  InProcessUserService onRegister(Registration registration) {
    return onRegisterAsync((caller, command) -> {
      try {
        return CompletableFuture.completedStage(registration.register(caller, command));
      } catch (RuntimeException e) {
        return CompletableFuture.failedStage(e);
      }
    });
  }

  InProcessUserService onRegisterAsync(RegisterUser register) {
    this.register = register;
    return this;
  }

  /** The use case RegisterUser as a blocking function. */
  @FunctionalInterface
  interface Registration {

    User register(Caller caller, RegisterUserCommand command);
  }

  /** GetUser answered in the handler's thread: {@code lookup}'s user, or what it throws. */
  InProcessUserService onGet(Lookup lookup) {
    return onGetAsync((caller, query) -> {
      try {
        return CompletableFuture.completedStage(lookup.get(caller, query));
      } catch (RuntimeException e) {
        return CompletableFuture.failedStage(e);
      }
    });
  }

  InProcessUserService onGetAsync(GetUser get) {
    this.get = get;
    return this;
  }

  /** The use case GetUser as a blocking function. */
  @FunctionalInterface
  interface Lookup {

    User get(Caller caller, GetUserQuery query);
  }

  InProcessUserService onUpdate(UpdateUser update) {
    this.update = update;
    return this;
  }

  InProcessUserService onDelete(DeleteUser delete) {
    this.delete = delete;
    return this;
  }

  InProcessUserService onList(ListUsers list) {
    this.list = list;
    return this;
  }

  InProcessUserService onImport(ImportUsers importUsers) {
    this.importUsers = importUsers;
    return this;
  }

  /** Authenticates calls with {@code authentication} instead of treating every caller as an administrator. */
  InProcessUserService authenticating(AuthenticationInterceptor authentication) {
    this.authentication = authentication;
    return this;
  }

  /** Gives every call of the users API sent without a deadline this one. */
  InProcessUserService withDefaultDeadline(Duration defaultDeadline) {
    this.deadlines = DeadlinePolicy.defaultingTo(defaultDeadline);
    return this;
  }

  InProcessUserService withDeadlines(DeadlinePolicy deadlines) {
    this.deadlines = deadlines;
    return this;
  }

  InProcessUserService withRateLimit(RateLimit rateLimit) {
    this.rateLimit = Optional.of(rateLimit);
    return this;
  }

  /** Adds an interceptor around the users API's own, where authentication runs. */
  InProcessUserService aroundUsersApi(ServerInterceptor interceptor) {
    aroundUsersApi.add(interceptor);
    return this;
  }

  InProcessUserService withImportLimits(ImportLimits importLimits) {
    this.importLimits = importLimits;
    return this;
  }

  /** Serves {@code service} too, behind the interceptors of every service only, like health. */
  InProcessUserService alsoServing(ServerServiceDefinition service) {
    others.add(service);
    return this;
  }

  /** Adds an interceptor that runs after all the others, right before the service. */
  InProcessUserService withInnermost(ServerInterceptor interceptor) {
    innermost.add(interceptor);
    return this;
  }

  /** Serves {@code service} instead of the UserGrpcService, behind the same interceptors. */
  InProcessUserService serving(BindableService service) {
    this.replacement = service;
    return this;
  }

  UserServiceGrpc.UserServiceBlockingStub blockingStub() {
    return UserServiceGrpc.newBlockingStub(channel());
  }

  UserServiceGrpc.UserServiceStub asyncStub() {
    return UserServiceGrpc.newStub(channel());
  }

  ManagedChannel channel() {
    if (channel == null) {
      start();
    }
    return channel;
  }

  private void start() {
    String name = InProcessServerBuilder.generateName();
    scheduler = Executors.newSingleThreadScheduledExecutor();
    var users = replacement != null
        ? replacement
        : new UserGrpcService(register, get, update, delete, list, importUsers, importLimits);
    var builder = InProcessServerBuilder.forName(name)
        .addService(ServerInterceptors.intercept(
            CallInterceptors.usersApi(ServerInterceptors.intercept(RequestDecoding.guard(users), innermost), new CallsInFlight(),
                authentication, deadlines, rateLimit, importLimits, scheduler),
            aroundUsersApi));
    others.forEach(builder::addService);
    CallInterceptors.installOn(builder);
    builder.intercept(new CountingCalls());
    try {
      server = builder.build().start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @Override
  public void afterEach(ExtensionContext context) throws InterruptedException {
    if (channel == null) {
      return;
    }
    channel.shutdown();
    server.shutdown();
    if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
      channel.shutdownNow();
    }
    if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
      server.shutdownNow();
    }
    // A terminated server may still be delivering the end of a call, whose access line would
    // otherwise reach the log capture of the next test.
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (callsNotEnded.get() > 0 && System.nanoTime() < giveUp) {
      Thread.sleep(5);
    }
    scheduler.shutdownNow();
  }

  /** Outermost: a call counts until every interceptor has handled its end. */
  private final class CountingCalls implements ServerInterceptor {

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      callsNotEnded.incrementAndGet();
      return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
        @Override
        public void onComplete() {
          try {
            super.onComplete();
          } finally {
            callsNotEnded.decrementAndGet();
          }
        }

        @Override
        public void onCancel() {
          try {
            super.onCancel();
          } finally {
            callsNotEnded.decrementAndGet();
          }
        }
      };
    }
  }
}
