package dev.users.application.port;

import dev.users.domain.InvalidInputException;

/**
 * A caller's idempotency key for a creation: 1 to {@value #MAX_LENGTH} printable ASCII characters.
 *
 * @throws InvalidInputException naming the field {@code idempotency_key} when the value is invalid
 */
public record IdempotencyKey(String value) {

  public static final int MAX_LENGTH = 128;

  public IdempotencyKey {
    if (value == null || value.isEmpty()) {
      throw InvalidInputException.of("idempotency_key", "is required");
    }
    if (value.length() > MAX_LENGTH) {
      throw InvalidInputException.of("idempotency_key", "must be at most " + MAX_LENGTH + " characters");
    }
    if (!value.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw InvalidInputException.of("idempotency_key", "must contain only printable ASCII characters");
    }
  }

  @Override
  public String toString() {
    return value;
  }
}
