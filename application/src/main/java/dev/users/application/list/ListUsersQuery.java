package dev.users.application.list;

import dev.users.domain.UserId;
import java.util.Objects;
import java.util.Optional;

/**
 * One page of a listing.
 *
 * @param after the listing starts right after this id; empty starts at the first user
 * @param limit the most users the page holds, 1 to {@value #MAX_LIMIT}
 */
public record ListUsersQuery(Optional<UserId> after, int limit) {

  /**
   * Pages are bounded so that reading one holds storage (a database connection) for a bounded
   * time, and a page read into memory holds a bounded number of users.
   */
  public static final int MAX_LIMIT = 10_000;

  public ListUsersQuery {
    Objects.requireNonNull(after, "after");
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT + ", got " + limit);
    }
  }
}
