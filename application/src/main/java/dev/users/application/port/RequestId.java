package dev.users.application.port;

import dev.users.domain.InvalidInputException;

/**
 * A caller's idempotency key for a creation: 1 to {@value #MAX_LENGTH} printable ASCII characters.
 *
 * @throws InvalidInputException naming the field {@code request_id} when the value is invalid
 */
public record RequestId(String value) {

  public static final int MAX_LENGTH = 128;

  public RequestId {
    if (value == null || value.isEmpty()) {
      throw InvalidInputException.of("request_id", "is required");
    }
    if (value.length() > MAX_LENGTH) {
      throw InvalidInputException.of("request_id", "must be at most " + MAX_LENGTH + " characters");
    }
    if (!value.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw InvalidInputException.of("request_id", "must contain only printable ASCII characters");
    }
  }

  @Override
  public String toString() {
    return value;
  }
}
