package dev.users.adapter.grpc;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;

/**
 * A service's methods while the server is up but the service is not yet wired, because what it
 * needs (its storage) is still opening: every call ends UNAVAILABLE, which clients retry, rather
 * than UNIMPLEMENTED, which they do not. Health reports the service NOT_SERVING meanwhile.
 */
public final class StartingService {

  private StartingService() {}

  /** Every method of {@code service}, answering UNAVAILABLE with {@code description}. */
  public static ServerServiceDefinition of(ServiceDescriptor service, String description) {
    var status = Status.UNAVAILABLE.withDescription(description);
    var definition = ServerServiceDefinition.builder(service);
    for (var method : service.getMethods()) {
      definition.addMethod(unavailable(method, status));
    }
    return definition.build();
  }

  private static <Q, R> ServerMethodDefinition<Q, R> unavailable(MethodDescriptor<Q, R> method, Status status) {
    ServerCallHandler<Q, R> handler = (call, headers) -> {
      call.close(status, new Metadata());
      return new ServerCall.Listener<>() {};
    };
    return ServerMethodDefinition.create(method, handler);
  }
}
