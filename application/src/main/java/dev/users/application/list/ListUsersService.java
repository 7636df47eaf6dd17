package dev.users.application.list;

import dev.users.application.access.AccessPolicy;
import dev.users.application.access.Caller;
import dev.users.application.port.UserRepository;

public final class ListUsersService implements ListUsers {

  private final UserRepository users;

  public ListUsersService(UserRepository users) {
    this.users = users;
  }

  /** Reads one user more than asked for: its presence says whether the listing goes on. */
  @Override
  public UserPage list(Caller caller, ListUsersQuery query) {
    AccessPolicy.mayList(caller);
    int lookAhead = query.limit() + 1;
    var found = query.after()
        .map(after -> users.listAfter(after, lookAhead))
        .orElseGet(() -> users.listFirst(lookAhead));
    boolean hasMore = found.size() > query.limit();
    return new UserPage(hasMore ? found.subList(0, query.limit()) : found, hasMore);
  }
}
