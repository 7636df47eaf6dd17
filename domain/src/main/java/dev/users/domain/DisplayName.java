package dev.users.domain;

import java.util.Objects;

/**
 * The name shown for a user: trimmed, 1 to {@value #MAX_LENGTH} Unicode code points, no control
 * characters.
 *
 * <p>A class rather than a record for the reason {@link Email} gives: {@link #fromStorage} rebuilds
 * a stored name without checking it again.
 */
public final class DisplayName {

  public static final int MAX_LENGTH = 100;

  private final String value;

  /**
   * Reads a name given as input.
   *
   * @throws InvalidInputException naming the field {@code display_name} when the value is invalid
   */
  public DisplayName(String value) {
    this(value == null ? "" : value.strip(), true);
  }

  private DisplayName(String value, boolean check) {
    if (check) {
      if (value.isEmpty()) {
        throw InvalidInputException.of("display_name", "is required");
      }
      if (value.codePointCount(0, value.length()) > MAX_LENGTH) {
        throw InvalidInputException.of("display_name", "must be at most " + MAX_LENGTH + " characters");
      }
      if (Text.hasControlCharacter(value)) {
        throw InvalidInputException.of("display_name", "must not contain control characters");
      }
    }
    this.value = value;
  }

  /**
   * A name exactly as storage holds it, not checked again: it was valid when it was stored, and a
   * rule tightened since must not make its user unreadable. Only for values read back from storage,
   * never for input.
   */
  public static DisplayName fromStorage(String storedValue) {
    return new DisplayName(Objects.requireNonNull(storedValue, "storedValue"), false);
  }

  public String value() {
    return value;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DisplayName other && value.equals(other.value);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @Override
  public String toString() {
    return value;
  }
}
