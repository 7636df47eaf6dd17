package dev.users.application.list;

import dev.users.application.access.Caller;
import dev.users.application.access.PermissionDeniedException;

/**
 * Reads the directory in id order, one page at a time. A listing is a series of calls, each
 * resuming after the last user of the previous page; users created meanwhile with higher ids show
 * up in later pages, and nothing is held open between calls.
 */
public interface ListUsers {

  /** @throws PermissionDeniedException when the caller may not list users */
  UserPage list(Caller caller, ListUsersQuery query);
}
