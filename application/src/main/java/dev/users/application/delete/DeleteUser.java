package dev.users.application.delete;

import dev.users.application.access.Caller;
import dev.users.application.access.PermissionDeniedException;
import dev.users.domain.UserNotFoundException;
import dev.users.domain.VersionConflictException;

/** Removes a user from the directory. */
public interface DeleteUser {

  /**
   * @throws PermissionDeniedException when the caller may not delete users
   * @throws UserNotFoundException when no user has the id
   * @throws VersionConflictException when the command has an etag and it is stale; a delete
   *     without one deletes the user whatever wrote it before
   */
  void delete(Caller caller, DeleteUserCommand command);
}
