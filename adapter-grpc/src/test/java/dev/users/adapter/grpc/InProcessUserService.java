package dev.users.adapter.grpc;

import dev.users.api.v1.UserServiceGrpc;
import dev.users.application.delete.DeleteUser;
import dev.users.application.get.GetUser;
import dev.users.application.importing.ImportUsers;
import dev.users.application.list.ListUsers;
import dev.users.application.register.RegisterUser;
import dev.users.application.update.UpdateUser;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The service with the server-wide interceptors over the in-process transport, started on first
 * use and shut down after each test. Every use case fails the test unless the test provides it.
 */
final class InProcessUserService implements AfterEachCallback {

  private RegisterUser register = command -> {
    throw new AssertionError("CreateUser was not expected to reach its use case");
  };
  private GetUser get = query -> {
    throw new AssertionError("GetUser was not expected to reach its use case");
  };
  private UpdateUser update = command -> {
    throw new AssertionError("UpdateUser was not expected to reach its use case");
  };
  private DeleteUser delete = command -> {
    throw new AssertionError("DeleteUser was not expected to reach its use case");
  };
  private ListUsers list = query -> {
    throw new AssertionError("ListUsers was not expected to reach its use case");
  };
  private ImportUsers importUsers = items -> {
    throw new AssertionError("ImportUsers was not expected to reach its use case");
  };
  private Duration defaultDeadline = Duration.ofMinutes(1);
  private final List<ServerInterceptor> innermost = new ArrayList<>();
  private BindableService replacement;

  private ScheduledExecutorService scheduler;
  private Server server;
  private ManagedChannel channel;

  InProcessUserService onRegister(RegisterUser register) {
    this.register = register;
    return this;
  }

  InProcessUserService onGet(GetUser get) {
    this.get = get;
    return this;
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

  InProcessUserService withDefaultDeadline(Duration defaultDeadline) {
    this.defaultDeadline = defaultDeadline;
    return this;
  }

  /** Adds an interceptor that runs after the server-wide ones, right before the service. */
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
    var builder = InProcessServerBuilder.forName(name)
        .addService(RequestDecoding.guard(replacement != null
            ? replacement
            : new UserGrpcService(register, get, update, delete, list, importUsers)));
    innermost.forEach(builder::intercept);
    CallInterceptors.installOn(builder, defaultDeadline, scheduler);
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
    scheduler.shutdownNow();
  }
}
