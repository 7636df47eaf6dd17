package dev.users.client;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerInterceptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.UUID;

/** A fake service behind the in-process transport, and clients of it built as in production. */
final class InProcessService implements AutoCloseable {

  private final String name = UUID.randomUUID().toString();
  private final Server server;

  InProcessService(BindableService service, ServerInterceptor... interceptors) {
    try {
      server = InProcessServerBuilder.forName(name)
          .addService(ServerInterceptors.intercept(service, interceptors))
          .build()
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  UsersClient client() {
    return client(UsersClient.forTarget("in-process"));
  }

  UsersClient client(UsersClient.Builder builder) {
    return builder.build(InProcessChannelBuilder.forName(name));
  }

  @Override
  public void close() {
    server.shutdownNow();
  }
}
