package dev.users.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

/**
 * Keeps the server's {@code x-request-id} with a failure. The server sends it in the response
 * headers, or in the trailers when the call fails before any response; a failed call's exception
 * only carries the trailers, so the header is copied into them.
 */
final class RequestIds implements ClientInterceptor {

  static final Metadata.Key<String> KEY = Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
    return new SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
      @Override
      public void start(Listener<RespT> responseListener, Metadata headers) {
        super.start(new SimpleForwardingClientCallListener<>(responseListener) {
          private volatile String fromHeaders;

          @Override
          public void onHeaders(Metadata headers) {
            fromHeaders = headers.get(KEY);
            super.onHeaders(headers);
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            if (fromHeaders != null && !trailers.containsKey(KEY)) {
              trailers.put(KEY, fromHeaders);
            }
            super.onClose(status, trailers);
          }
        }, headers);
      }
    };
  }
}
