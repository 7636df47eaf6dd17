package dev.users.adapter.grpc;

import io.grpc.Context;
import java.util.Optional;

/** The request id of the call being served, for code running inside it. */
public final class RequestIds {

  static final Context.Key<String> KEY = Context.key("request-id");

  private RequestIds() {}

  /**
   * The request id of the call whose {@link Context} is current: the caller's {@code x-request-id}
   * or one the server generated. Empty outside a call that passed {@link RequestIdInterceptor}.
   */
  public static Optional<String> current() {
    return Optional.ofNullable(KEY.get());
  }
}
