package dev.users.adapter.grpc;

import dev.users.application.access.Caller;
import io.grpc.Context;
import java.util.Optional;

/**
 * The {@link Caller} of the call being served, as authentication established it. There is no
 * default: a call that no authentication step passed has no caller, and is refused rather than
 * served as somebody.
 */
public final class Callers {

  static final Context.Key<Caller> KEY = Context.key("caller");

  private Callers() {}

  /** The caller of the call whose {@link Context} is current; empty before authentication. */
  public static Optional<Caller> current() {
    return Optional.ofNullable(KEY.get());
  }
}
