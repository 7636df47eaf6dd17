package dev.users.application.delete;

import dev.users.domain.UserNotFoundException;
import dev.users.domain.VersionConflictException;

/** Removes a user from the directory. */
public interface DeleteUser {

  /**
   * @throws UserNotFoundException when no user has the id
   * @throws VersionConflictException when the command's etag is stale, or a concurrent change won
   */
  void delete(DeleteUserCommand command);
}
