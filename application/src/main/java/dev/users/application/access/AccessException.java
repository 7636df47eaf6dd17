package dev.users.application.access;

/**
 * A call refused for who made it, before anything took effect. The hierarchy is closed so that
 * every adapter that translates these refusals handles each one, and the compiler names any it
 * forgets.
 *
 * <p>A caller refused only because the user they asked for is not theirs is not refused here: the
 * use case answers as if that user did not exist ({@link dev.users.domain.UserNotFoundException}),
 * so that nobody learns which ids exist from the difference.
 */
public abstract sealed class AccessException extends RuntimeException
    permits NotAuthenticatedException, PermissionDeniedException {

  AccessException(String message) {
    // Expected outcomes, not faults: a stack trace would only cost time.
    super(message, null, false, false);
  }
}
