package dev.users.domain;

/**
 * The name shown for a user: trimmed, 1 to {@value #MAX_LENGTH} Unicode code points, no control
 * characters.
 *
 * @throws InvalidInputException naming the field {@code display_name} when the value is invalid
 */
public record DisplayName(String value) {

  public static final int MAX_LENGTH = 100;

  public DisplayName {
    value = value == null ? "" : value.strip();
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

  @Override
  public String toString() {
    return value;
  }
}
