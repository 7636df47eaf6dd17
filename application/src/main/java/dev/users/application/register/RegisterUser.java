package dev.users.application.register;

import dev.users.application.access.Caller;
import dev.users.application.access.PermissionDeniedException;
import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.User;

/** Adds a user to the directory. */
public interface RegisterUser {

  /**
   * Registers a user with a fresh id. With an idempotency key, repeating the call returns the user the
   * first call registered instead of registering another one.
   *
   * @throws PermissionDeniedException when the caller may not register users
   * @throws EmailAlreadyTakenException when another user has the email
   */
  User register(Caller caller, RegisterUserCommand command);
}
