package dev.users.application.list;

import dev.users.application.access.AccessPolicy;
import dev.users.application.access.Caller;
import dev.users.application.port.UserRepository;
import dev.users.domain.User;
import java.util.function.Consumer;

public final class ListUsersService implements ListUsers {

  private final UserRepository users;

  public ListUsersService(UserRepository users) {
    this.users = users;
  }

  /** Reads one user more than asked for: its presence says whether the listing goes on. */
  @Override
  public boolean list(Caller caller, ListUsersQuery query, Consumer<? super User> each) {
    AccessPolicy.mayList(caller);
    var passed = new int[1];
    var hasMore = new boolean[1];
    users.forEach(query.after(), query.limit() + 1, user -> {
      if (passed[0] == query.limit()) {
        hasMore[0] = true;
      } else {
        passed[0]++;
        each.accept(user);
      }
    });
    return hasMore[0];
  }
}
