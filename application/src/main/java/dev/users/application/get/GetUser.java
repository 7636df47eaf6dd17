package dev.users.application.get;

import dev.users.domain.User;
import dev.users.domain.UserNotFoundException;

/** Reads one user. */
public interface GetUser {

  /** @throws UserNotFoundException when no user has the id */
  User get(GetUserQuery query);
}
