package dev.users.adapter.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A call that sends request bytes as they are, whatever the method expects: what a broken or
 * hostile client can put on the wire.
 */
public final class RawCall {

  private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  /** How a call ended. */
  public record Outcome(Status status, Metadata trailers) {}

  private RawCall() {}

  /**
   * Sends {@code messages} to {@code fullMethodName} with {@code headers}, half-closes, and waits
   * up to 10 s for the call to end.
   */
  public static Outcome send(Channel channel, String fullMethodName, Metadata headers, List<byte[]> messages)
      throws Exception {
    var method = MethodDescriptor.<byte[], byte[]>newBuilder(BYTES, BYTES)
        .setFullMethodName(fullMethodName)
        .setType(MethodDescriptor.MethodType.UNKNOWN)
        .build();
    var call = channel.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS));
    var outcome = new CompletableFuture<Outcome>();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        outcome.complete(new Outcome(status, trailers));
      }
    }, headers);
    call.request(Integer.MAX_VALUE);
    messages.forEach(call::sendMessage);
    call.halfClose();
    var ended = outcome.get(10, TimeUnit.SECONDS);
    assertThat(ended).isNotNull();
    return ended;
  }
}
