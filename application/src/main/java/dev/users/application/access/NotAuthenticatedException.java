package dev.users.application.access;

/**
 * Nobody could be established as the caller: the credentials are missing or were not accepted.
 * Callers are told no more than that; {@link #getMessage()} says which check failed, for the
 * server's log only, and never holds the credentials themselves.
 */
public final class NotAuthenticatedException extends AccessException {

  /** @param reason which check failed, in words fit for the server's log */
  public NotAuthenticatedException(String reason) {
    super(reason);
  }
}
