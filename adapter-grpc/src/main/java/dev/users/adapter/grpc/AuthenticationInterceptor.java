package dev.users.adapter.grpc;

import dev.users.application.access.Caller;
import dev.users.application.access.NotAuthenticatedException;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Establishes who calls before the call does any work, and puts that {@link Caller} in the call's
 * Context ({@link Callers#current()}). A call that cannot be authenticated is answered
 * UNAUTHENTICATED at once, through {@link CallFailures}, and the service never sees it.
 */
public final class AuthenticationInterceptor implements ServerInterceptor {

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private static final String BEARER = "bearer ";

  /** @throws NotAuthenticatedException when the metadata establishes nobody */
  private final Function<Metadata, Caller> authenticate;

  private AuthenticationInterceptor(Function<Metadata, Caller> authenticate) {
    this.authenticate = authenticate;
  }

  /**
   * Authenticates nobody: every call acts as {@link Caller#unauthenticatedAdministrator()}. For
   * development, or behind a gateway that already authenticated and authorized the caller.
   */
  public static AuthenticationInterceptor none() {
    return new AuthenticationInterceptor(headers -> Caller.unauthenticatedAdministrator());
  }

  /**
   * Establishes callers by {@code authenticate}, which throws {@link NotAuthenticatedException} for
   * metadata that establishes nobody: the seam for a mechanism other than bearer tokens.
   */
  static AuthenticationInterceptor establishingCallersBy(Function<Metadata, Caller> authenticate) {
    return new AuthenticationInterceptor(authenticate);
  }

  /** Requires {@code authorization: Bearer <JWT>} metadata that {@code tokens} accepts. */
  public static AuthenticationInterceptor bearer(JwtAuthenticator tokens) {
    return new AuthenticationInterceptor(headers -> tokens.authenticate(bearerToken(headers)));
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Caller caller;
    try {
      caller = authenticate.apply(headers);
    } catch (NotAuthenticatedException e) {
      var refusal = CallFailures.report(e, UnaryOperator.identity());
      call.close(refusal.getStatus(), refusal.getTrailers());
      return new ServerCall.Listener<>() {};
    }
    return Contexts.interceptCall(Context.current().withValue(Callers.KEY, caller), call, headers, next);
  }

  /** The token of {@code authorization: Bearer <token>}; the scheme's case does not matter (RFC 6750). */
  private static String bearerToken(Metadata headers) {
    var authorization = headers.get(AUTHORIZATION);
    if (authorization == null
        || authorization.length() <= BEARER.length()
        || !authorization.substring(0, BEARER.length()).toLowerCase(Locale.ROOT).equals(BEARER)) {
      throw JwtAuthenticator.Refusal.MISSING.exception();
    }
    return authorization.substring(BEARER.length()).strip();
  }
}
