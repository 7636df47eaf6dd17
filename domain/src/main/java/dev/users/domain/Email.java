package dev.users.domain;

import java.util.Locale;
import java.util.Objects;

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
 * <p>A class rather than a record: an address read back from storage was checked by the rules of
 * the day it was stored, and {@link #fromStorage} must rebuild it without the canonical
 * constructor a record would always run.
 */
public final class Email {

  public static final int MAX_LENGTH = 254;

  private final String value;

  /**
   * Reads an address given as input.
   *
   * @throws InvalidInputException naming the field {@code email} when the value is invalid
   */
  public Email(String value) {
    this(value == null ? "" : value.strip(), true);
  }

  private Email(String value, boolean check) {
    String problem = check ? problem(value) : null;
    if (problem != null) {
      throw InvalidInputException.of("email", problem);
    }
    this.value = value;
  }

  /**
   * An address exactly as storage holds it, not checked again: it was valid when it was stored,
   * and a rule tightened since must not make its user unreadable. Only for values read back from
   * storage, never for input.
   */
  public static Email fromStorage(String storedValue) {
    return new Email(Objects.requireNonNull(storedValue, "storedValue"), false);
  }

  public String value() {
    return value;
  }

  /** The form two addresses are compared in: lower case, independent of the default locale. */
  public String canonical() {
    return value.toLowerCase(Locale.ROOT);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Email other && value.equals(other.value);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
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
