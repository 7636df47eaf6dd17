package dev.users.client;

import java.util.List;

/**
 * What an import did, item by item: a rejected item does not stop the items around it.
 *
 * @param createdCount how many users were created
 * @param rejectedCount how many items were not created; more than {@code failures} holds when the
 *     server detailed only the first ones (it details the first 1,000)
 * @param failures why each detailed item was not created, in stream order
 */
public record ImportOutcome(long createdCount, long rejectedCount, List<Failure> failures) {

  public ImportOutcome {
    failures = List.copyOf(failures);
  }

  /**
   * One item that was not created.
   *
   * @param index the 0-based position of the item in what was imported
   * @param error why: {@link UsersClientException.InvalidArgument} with the field violations, or
   *     {@link UsersClientException.EmailTaken}
   */
  public record Failure(long index, UsersClientException error) {}
}
