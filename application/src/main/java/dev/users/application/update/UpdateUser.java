package dev.users.application.update;

import dev.users.application.access.AccessPolicy;
import dev.users.application.access.Caller;
import dev.users.application.access.PermissionDeniedException;
import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.User;
import dev.users.domain.UserNotFoundException;
import dev.users.domain.VersionConflictException;

/** Changes some fields of a user. */
public interface UpdateUser {

  /**
   * Applies the command's changes in one write. Every successful update gives the user a new etag
   * and update time, even when the new values equal the old ones.
   *
   * @throws UserNotFoundException when no user has the id, or when the caller may update only
   *     their own user and the id is not theirs ({@link AccessPolicy#mayUpdate})
   * @throws PermissionDeniedException when a caller updating their own user without a scope
   *     changes its email
   * @throws VersionConflictException when the command has an etag and it is stale; an update
   *     without one is applied to the user as it is when it is written, whatever wrote it before
   * @throws EmailAlreadyTakenException when the new email belongs to another user
   */
  User update(Caller caller, UpdateUserCommand command);
}
