package dev.users.application.register;

import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.User;

/** Adds a user to the directory. */
public interface RegisterUser {

  /**
   * Registers a user with a fresh id. With an idempotency key, repeating the call returns the user the
   * first call registered instead of registering another one.
   *
   * @throws EmailAlreadyTakenException when another user has the email
   */
  User register(RegisterUserCommand command);
}
