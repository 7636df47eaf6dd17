package dev.users.adapter.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;

/**
 * Fails a call whose request metadata is larger than the server accepts with RESOURCE_EXHAUSTED,
 * saying so, and nothing else.
 *
 * <p>The transport's own limit is the wrong tool for this: above it grpc-java's Netty server
 * answers HTTP 431 (clients see UNKNOWN), and above 1.25 times it Netty's header decoder sends
 * GOAWAY PROTOCOL_ERROR, ending every call on the connection. Its soft limit
 * ({@code NettyServerBuilder.maxInboundMetadataSize(soft, max)}) fails calls between the two
 * limits only with a probability growing towards the hard one. So the transport gets a hard
 * limit well above this one, and this interceptor applies the real limit to every call alike.
 */
public final class MetadataLimitInterceptor implements ServerInterceptor {

  /** What HTTP/2's SETTINGS_MAX_HEADER_LIST_SIZE adds to each entry's name and value. */
  private static final int ENTRY_OVERHEAD = 32;

  private final int maxBytes;

  /** @param maxBytes the largest request metadata accepted, counted as HTTP/2 counts headers */
  public MetadataLimitInterceptor(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    int size = sizeOf(headers);
    if (size <= maxBytes) {
      return next.startCall(call, headers);
    }
    call.close(Status.RESOURCE_EXHAUSTED.withDescription(
        "request metadata of " + size + " bytes exceeds the server's limit of " + maxBytes + " bytes"), new Metadata());
    return new ServerCall.Listener<>() {};
  }

  private static int sizeOf(Metadata headers) {
    int size = 0;
    for (var name : headers.keys()) {
      var values = name.endsWith(Metadata.BINARY_HEADER_SUFFIX)
          ? headers.getAll(Metadata.Key.of(name, Metadata.BINARY_BYTE_MARSHALLER))
          : headers.getAll(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER));
      if (values == null) {
        continue;
      }
      for (Object value : values) {
        int valueBytes = value instanceof byte[] bytes ? bytes.length : ((String) value).getBytes(StandardCharsets.US_ASCII).length;
        size += name.length() + valueBytes + ENTRY_OVERHEAD;
      }
    }
    return size;
  }
}
