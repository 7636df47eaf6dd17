package dev.users.application.list;

import dev.users.application.port.UserRepository;

public final class ListUsersService implements ListUsers {

  private final UserRepository users;

  public ListUsersService(UserRepository users) {
    this.users = users;
  }

  @Override
  public UserPage list(ListUsersQuery query) {
    var page = query.after()
        .map(after -> users.listAfter(after, query.limit()))
        .orElseGet(() -> users.listFirst(query.limit()));
    return new UserPage(page, page.size() == query.limit());
  }
}
