package dev.users.domain;

import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Identifies a user. Ids are UUIDs assigned by the service; time-ordered (version 7) ids make
 * the id order the creation order.
 *
 * <p>Ids compare as unsigned 128-bit numbers, the order PostgreSQL's {@code uuid} type uses.
 * {@link UUID#compareTo} compares signed halves and would disagree for most ids.
 */
public record UserId(UUID value) implements Comparable<UserId> {

  private static final Pattern CANONICAL =
      Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  public UserId {
    Objects.requireNonNull(value, "value");
  }

  /**
   * Reads an id in the canonical 36-character form.
   *
   * @throws InvalidInputException naming the field {@code id} when the text is not such a UUID
   */
  public static UserId parse(String text) {
    if (text == null || text.isEmpty()) {
      throw InvalidInputException.of("id", "is required");
    }
    if (!CANONICAL.matcher(text).matches()) {
      throw InvalidInputException.of("id", "must be a UUID such as 0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8b");
    }
    return new UserId(UUID.fromString(text));
  }

  @Override
  public int compareTo(UserId other) {
    int high = Long.compareUnsigned(value.getMostSignificantBits(), other.value.getMostSignificantBits());
    return high != 0
        ? high
        : Long.compareUnsigned(value.getLeastSignificantBits(), other.value.getLeastSignificantBits());
  }

  @Override
  public String toString() {
    return value.toString();
  }
}
