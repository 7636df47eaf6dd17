package dev.users.domain;

import java.util.Objects;

/**
 * One invalid field of a request.
 *
 * @param field the field's name in snake case, relative to the object being validated (for
 *     example {@code email} or {@code display_name})
 * @param description what is wrong with it, for the caller to read
 */
public record FieldViolation(String field, String description) {

  public FieldViolation {
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(description, "description");
  }
}
