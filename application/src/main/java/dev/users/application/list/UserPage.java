package dev.users.application.list;

import dev.users.domain.User;
import dev.users.domain.UserId;
import java.util.List;
import java.util.Optional;

/**
 * Users in id order.
 *
 * @param hasMore whether users follow the last one of the page (at the time of reading)
 */
public record UserPage(List<User> users, boolean hasMore) {

  public UserPage {
    users = List.copyOf(users);
  }

  /** The id to resume after, if the page holds any user. */
  public Optional<UserId> lastId() {
    return users.isEmpty() ? Optional.empty() : Optional.of(users.getLast().id());
  }
}
