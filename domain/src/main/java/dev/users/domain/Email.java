package dev.users.domain;

import java.util.Locale;

/**
 * A user's email address, as the user gave it but trimmed.
 *
 * <p>A valid address has at most {@value #MAX_LENGTH} characters, exactly one {@code @}, a
 * non-empty local part, a domain of dot-separated non-empty labels with at least one dot, and no
 * whitespace or control characters. This is deliberately looser than RFC 5322: the only proof
 * that an address works is a message that arrives.
 *
 * <p>Two addresses that differ only in case belong to the same person: {@link #canonical()} is
 * the form compared for uniqueness.
 *
 * @throws InvalidInputException naming the field {@code email} when the value is invalid
 */
public record Email(String value) {

  public static final int MAX_LENGTH = 254;

  public Email {
    value = value == null ? "" : value.strip();
    String problem = problem(value);
    if (problem != null) {
      throw InvalidInputException.of("email", problem);
    }
  }

  /** The form two addresses are compared in: lower case, independent of the default locale. */
  public String canonical() {
    return value.toLowerCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return value;
  }

  private static String problem(String value) {
    if (value.isEmpty()) {
      return "is required";
    }
    if (value.codePointCount(0, value.length()) > MAX_LENGTH) {
      return "must be at most " + MAX_LENGTH + " characters";
    }
    if (Text.hasControlCharacter(value) || Text.hasWhitespace(value)) {
      return "must not contain whitespace or control characters";
    }
    int at = value.indexOf('@');
    if (at < 0 || at != value.lastIndexOf('@')) {
      return "must contain exactly one '@'";
    }
    if (at == 0) {
      return "must have a non-empty part before the '@'";
    }
    String domain = value.substring(at + 1);
    if (!domain.contains(".") || domain.startsWith(".") || domain.endsWith(".") || domain.contains("..")) {
      return "must have a domain such as example.com after the '@'";
    }
    return null;
  }
}
