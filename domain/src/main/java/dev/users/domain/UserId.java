package dev.users.domain;

import java.util.Objects;
import java.util.UUID;

/**
 * Identifies a user. Ids are UUIDs assigned by the service; time-ordered (version 7) ids make
 * the id order the creation order.
 *
 * <p>Ids compare as unsigned 128-bit numbers, the order PostgreSQL's {@code uuid} type uses.
 * {@link UUID#compareTo} compares signed halves and would disagree for most ids.
 */
public record UserId(UUID value) implements Comparable<UserId> {

  private static final int CANONICAL_LENGTH = 36;

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
    // Read by hand rather than matched by a regular expression and read again by UUID.fromString:
    // every GetUser parses one, on the event loop. ASCII hex digits only, as the canonical form has
    // (Character.digit would take other scripts' digits too).
    if (text.length() != CANONICAL_LENGTH) {
      throw notAUuid();
    }
    long high = 0;
    long low = 0;
    for (int i = 0; i < CANONICAL_LENGTH; i++) {
      char c = text.charAt(i);
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        if (c != '-') {
          throw notAUuid();
        }
        continue;
      }
      int digit = hexDigit(c);
      if (digit < 0) {
        throw notAUuid();
      }
      if (i < 18) {
        high = high << 4 | digit;
      } else {
        low = low << 4 | digit;
      }
    }
    return new UserId(new UUID(high, low));
  }

  private static int hexDigit(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  private static InvalidInputException notAUuid() {
    return InvalidInputException.of("id", "must be a UUID such as 0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8b");
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
