package dev.users.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Collects the problems of every field of a request, so that the caller learns about all of them
 * at once rather than one per attempt.
 *
 * <pre>{@code
 * var violations = new Violations();
 * var email = violations.check(() -> new Email(rawEmail));
 * var name = violations.check(() -> new DisplayName(rawName));
 * violations.throwIfAny(); // email and name are non-null from here on
 * }</pre>
 */
public final class Violations {

  private final List<FieldViolation> found = new ArrayList<>();

  /**
   * Builds a value, recording why it is invalid instead of throwing.
   *
   * @return the value, or {@code null} when it was invalid; {@link #throwIfAny()} must be called
   *     before such a value is used
   */
  public <T> T check(Supplier<T> build) {
    try {
      return build.get();
    } catch (InvalidInputException e) {
      found.addAll(e.violations());
      return null;
    }
  }

  public void add(String field, String description) {
    found.add(new FieldViolation(field, description));
  }

  /** An {@link InvalidInputException} listing everything recorded, if anything was. */
  public Optional<InvalidInputException> failure() {
    return found.isEmpty() ? Optional.empty() : Optional.of(new InvalidInputException(found));
  }

  /** Throws the {@link #failure()}, if there is one. */
  public void throwIfAny() {
    var failure = failure();
    if (failure.isPresent()) {
      throw failure.get();
    }
  }
}
