package dev.users.domain;

import java.util.List;
import java.util.stream.Collectors;

/** A request has one or more invalid fields; {@link #violations()} lists every one of them. */
public final class InvalidInputException extends DomainException {

  private final List<FieldViolation> violations;

  public InvalidInputException(List<FieldViolation> violations) {
    super(describe(violations));
    if (violations.isEmpty()) {
      throw new IllegalArgumentException("an invalid input needs at least one violation");
    }
    this.violations = List.copyOf(violations);
  }

  /** A request whose only problem is {@code field}. */
  public static InvalidInputException of(String field, String description) {
    return new InvalidInputException(List.of(new FieldViolation(field, description)));
  }

  public List<FieldViolation> violations() {
    return violations;
  }

  private static String describe(List<FieldViolation> violations) {
    return violations.stream()
        .map(v -> v.field() + ": " + v.description())
        .collect(Collectors.joining("; ", "invalid request: ", ""));
  }
}
