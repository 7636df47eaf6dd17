package dev.users.adapter.grpc;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Attributes;
import io.grpc.BindableService;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.InputStream;
import java.util.ArrayList;

/**
 * Answers a request message that cannot be decoded (bytes that are no protobuf message of the
 * method's type, a string field that is not UTF-8) with INVALID_ARGUMENT and one log line under
 * the call's request id.
 *
 * <p>grpc-java decodes a request in {@code ServerCallImpl}, before any interceptor's listener sees
 * it, and answers a failure with UNKNOWN "Application error processing RPC" and a stack trace per
 * call. So a service served through {@link #guard} receives its requests undecoded (its method
 * descriptors get a pass-through request marshaller, as
 * {@link io.grpc.ServerInterceptors#useInputStreamMessages} does) and decodes them itself in the
 * call's listener, with the method's own marshaller, where a failure can close the call.
 *
 * <p>The decoding runs inside the service's handler: interceptors added around the guarded
 * definition (or server-wide) see the call first, so the close has the request id, the access
 * log line and every other interceptor's treatment. Only the request type the interceptors see
 * changes, to {@link InputStream}; none of them reads requests.
 */
public final class RequestDecoding {

  private static final MethodDescriptor.Marshaller<InputStream> UNDECODED = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(InputStream value) {
      return value;
    }

    @Override
    public InputStream parse(InputStream stream) {
      return stream;
    }
  };

  private RequestDecoding() {}

  /** {@code service} with its requests decoded where a failure can be answered INVALID_ARGUMENT. */
  public static ServerServiceDefinition guard(BindableService service) {
    var definition = service.bindService();
    var methods = new ArrayList<ServerMethodDefinition<InputStream, ?>>();
    for (var method : definition.getMethods()) {
      methods.add(guard(method));
    }
    var descriptor = ServiceDescriptor.newBuilder(definition.getServiceDescriptor().getName())
        .setSchemaDescriptor(definition.getServiceDescriptor().getSchemaDescriptor());
    methods.forEach(method -> descriptor.addMethod(method.getMethodDescriptor()));
    var guarded = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(guarded::addMethod);
    return guarded.build();
  }

  private static <Q, R> ServerMethodDefinition<InputStream, R> guard(ServerMethodDefinition<Q, R> definition) {
    var method = definition.getMethodDescriptor();
    ServerCallHandler<InputStream, R> handler = (call, headers) -> {
      var listener = definition.getServerCallHandler().startCall(new DecodedCall<>(call, method), headers);
      return new DecodingListener<>(listener, call, method);
    };
    return ServerMethodDefinition.create(method.toBuilder(UNDECODED, method.getResponseMarshaller()).build(), handler);
  }

  /**
   * Decodes each message synchronously: grpc-java closes the stream it hands over once
   * {@code onMessage} returns. After a failure the call is closed, so later messages and the
   * half-close never reach the service.
   */
  private static final class DecodingListener<Q> extends ServerCall.Listener<InputStream> {

    private final ServerCall.Listener<Q> service;
    private final ServerCall<InputStream, ?> call;
    private final MethodDescriptor<Q, ?> method;
    private boolean rejected;

    DecodingListener(ServerCall.Listener<Q> service, ServerCall<InputStream, ?> call, MethodDescriptor<Q, ?> method) {
      this.service = service;
      this.call = call;
      this.method = method;
    }

    @Override
    public void onMessage(InputStream message) {
      if (rejected) {
        return;
      }
      Q request;
      try {
        request = method.parseRequest(message);
      } catch (RuntimeException e) {
        rejected = true;
        var failure = CallFailures.undecodable(method.getFullMethodName(), decodingProblem(e));
        call.close(failure.getStatus(), failure.getTrailers());
        return;
      }
      service.onMessage(request);
    }

    @Override
    public void onHalfClose() {
      if (!rejected) {
        service.onHalfClose();
      }
    }

    @Override
    public void onCancel() {
      service.onCancel();
    }

    @Override
    public void onComplete() {
      service.onComplete();
    }

    @Override
    public void onReady() {
      if (!rejected) {
        service.onReady();
      }
    }

    /** What protobuf says is wrong (truncated, invalid UTF-8, bad tag): no server detail. */
    private static String decodingProblem(RuntimeException failure) {
      for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
        if (cause instanceof InvalidProtocolBufferException invalid) {
          return invalid.getMessage();
        }
      }
      return "not a valid protobuf message";
    }
  }

  /** The call as the service sees it: its own request type, everything else the call's. */
  private static final class DecodedCall<Q, R> extends ServerCall<Q, R> {

    private final ServerCall<InputStream, R> call;
    private final MethodDescriptor<Q, R> method;

    DecodedCall(ServerCall<InputStream, R> call, MethodDescriptor<Q, R> method) {
      this.call = call;
      this.method = method;
    }

    @Override
    public void request(int numMessages) {
      call.request(numMessages);
    }

    @Override
    public void sendHeaders(Metadata headers) {
      call.sendHeaders(headers);
    }

    @Override
    public void sendMessage(R message) {
      call.sendMessage(message);
    }

    @Override
    public boolean isReady() {
      return call.isReady();
    }

    @Override
    public void setOnReadyThreshold(int numBytes) {
      call.setOnReadyThreshold(numBytes);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      call.close(status, trailers);
    }

    @Override
    public boolean isCancelled() {
      return call.isCancelled();
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      call.setMessageCompression(enabled);
    }

    @Override
    public void setCompression(String compressor) {
      call.setCompression(compressor);
    }

    @Override
    public SecurityLevel getSecurityLevel() {
      return call.getSecurityLevel();
    }

    @Override
    public Attributes getAttributes() {
      return call.getAttributes();
    }

    @Override
    public String getAuthority() {
      return call.getAuthority();
    }

    @Override
    public MethodDescriptor<Q, R> getMethodDescriptor() {
      return method;
    }
  }
}
