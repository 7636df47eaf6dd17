package dev.users.application.register;

import dev.users.application.access.Caller;
import dev.users.application.access.PermissionDeniedException;
import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.User;
import java.util.concurrent.CompletionStage;

/**
 * Adds a user to the directory, without holding the calling thread while storage stores it: under
 * load, the registrations of many calls share one statement, and the thread that ran it completes
 * them all.
 */
public interface RegisterUser {

  /**
   * Registers a user with a fresh id. With an idempotency key, repeating the call returns the user
   * the first call registered instead of registering another one.
   *
   * <p>Never throws: every outcome comes through the stage, which may complete before this returns,
   * or later in a thread of storage's that runs the stages depending on it (they must be quick).
   *
   * @return the user registered; or failed with {@link PermissionDeniedException} when the caller
   *     may not register users, with {@link EmailAlreadyTakenException} when another user has the
   *     email, or with what {@link dev.users.application.port.UserRepository#addAsync(User)} fails
   *     with
   */
  CompletionStage<User> register(Caller caller, RegisterUserCommand command);
}
