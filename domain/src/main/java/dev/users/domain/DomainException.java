package dev.users.domain;

/**
 * A request the domain refuses. The hierarchy is closed so that every adapter that translates
 * these errors can handle each one exhaustively, and the compiler names any it forgets.
 *
 * <p>Messages are written for the caller: they name what was wrong with the request, never how
 * the service is built.
 */
public abstract sealed class DomainException extends RuntimeException
    permits InvalidInputException,
        UserNotFoundException,
        EmailAlreadyTakenException,
        VersionConflictException {

  DomainException(String message) {
    // Expected outcomes, not faults: a stack trace would only cost time.
    super(message, null, false, false);
  }
}
