package dev.users.application.get;

import dev.users.application.access.AccessPolicy;
import dev.users.application.access.Caller;
import dev.users.domain.User;
import dev.users.domain.UserNotFoundException;

/** Reads one user. */
public interface GetUser {

  /**
   * @throws UserNotFoundException when no user has the id, or when the caller may read only their
   *     own user and the id is not theirs ({@link AccessPolicy#mayRead})
   */
  User get(Caller caller, GetUserQuery query);
}
