package dev.users.application.list;

import dev.users.application.access.Caller;
import dev.users.application.access.PermissionDeniedException;
import dev.users.domain.User;
import java.util.ArrayList;
import java.util.function.Consumer;

/**
 * Reads the directory in id order, one page at a time. A listing is a series of calls, each
 * resuming after the last user of the previous page; users created meanwhile with higher ids show
 * up in later pages, and nothing is held open between calls.
 */
public interface ListUsers {

  /**
   * Reads a page and passes its users to {@code each} as storage yields them, without holding
   * them. {@code each} runs while storage is being read, under the rules of {@link
   * dev.users.application.port.UserRepository#forEach}: quick, never waiting; what it throws ends
   * the page and propagates unchanged.
   *
   * @return whether users follow the last one passed (at the time of reading)
   * @throws PermissionDeniedException when the caller may not list users
   */
  boolean list(Caller caller, ListUsersQuery query, Consumer<? super User> each);

  /**
   * Reads a page into memory.
   *
   * @throws PermissionDeniedException when the caller may not list users
   */
  default UserPage list(Caller caller, ListUsersQuery query) {
    var users = new ArrayList<User>();
    boolean hasMore = list(caller, query, users::add);
    return new UserPage(users, hasMore);
  }
}
