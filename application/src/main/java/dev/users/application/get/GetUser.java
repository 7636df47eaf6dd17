package dev.users.application.get;

import dev.users.application.access.AccessPolicy;
import dev.users.application.access.Caller;
import dev.users.domain.User;
import dev.users.domain.UserNotFoundException;
import java.util.concurrent.CompletionStage;

/**
 * Reads one user, without holding the calling thread while storage looks it up: under load, the
 * lookups of many calls share one statement, and the thread that ran it completes them all.
 */
public interface GetUser {

  /**
   * Never throws: every outcome comes through the stage, which may complete before this returns,
   * or later in a thread of storage's that runs the stages depending on it (they must be quick).
   *
   * @return the user; or failed with {@link UserNotFoundException} when no user has the id, or
   *     when the caller may read only their own user and the id is not theirs ({@link
   *     AccessPolicy#mayRead}), or with what {@link
   *     dev.users.application.port.UserRepository#findByIdAsync} fails with
   */
  CompletionStage<User> get(Caller caller, GetUserQuery query);
}
