package dev.users.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.Status;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Sends {@code authorization: Bearer <token>}, asking the supplier on every call so that a token
 * can be refreshed between calls. A bearer token read off the wire is as good as a password, so it
 * is sent only over a connection that keeps it private, unless plaintext was explicitly allowed
 * (a local server without TLS); otherwise the call fails UNAUTHENTICATED before anything is sent.
 */
final class BearerToken extends CallCredentials {

  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Supplier<String> tokens;
  private final boolean allowPlaintext;

  BearerToken(Supplier<String> tokens, boolean allowPlaintext) {
    this.tokens = tokens;
    this.allowPlaintext = allowPlaintext;
  }

  @Override
  public void applyRequestMetadata(RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
    if (requestInfo.getSecurityLevel() != SecurityLevel.PRIVACY_AND_INTEGRITY && !allowPlaintext) {
      applier.fail(Status.UNAUTHENTICATED.withDescription(
          "the bearer token is not sent over a connection without TLS; use TLS or allow plaintext explicitly"));
      return;
    }
    // The supplier may block (a refresh over the network): never on a transport thread.
    appExecutor.execute(() -> {
      try {
        var headers = new Metadata();
        headers.put(AUTHORIZATION, "Bearer " + tokens.get());
        applier.apply(headers);
      } catch (RuntimeException e) {
        applier.fail(Status.UNAUTHENTICATED.withDescription("the bearer token supplier failed").withCause(e));
      }
    });
  }
}
