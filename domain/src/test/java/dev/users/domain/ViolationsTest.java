package dev.users.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ViolationsTest {

  @Test
  void reportsEveryInvalidFieldAtOnce() {
    var violations = new Violations();
    violations.check(() -> new Email("nope"));
    violations.check(() -> new DisplayName(""));
    violations.add("idempotency_key", "is too long");

    assertThatThrownBy(violations::throwIfAny)
        .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.violations())
            .extracting(FieldViolation::field)
            .containsExactly("email", "display_name", "idempotency_key"));
  }

  @Test
  void returnsValidValuesAndThrowsNothingWhenAllAreValid() {
    var violations = new Violations();
    var email = violations.check(() -> new Email("ada@example.org"));

    violations.throwIfAny();
    assertThat(email).isEqualTo(new Email("ada@example.org"));
    assertThat(violations.failure()).isEmpty();
  }

  @Test
  void describesTheViolationsInItsMessage() {
    var e = new InvalidInputException(java.util.List.of(
        new FieldViolation("email", "is required"), new FieldViolation("display_name", "is required")));
    assertThat(e.getMessage()).isEqualTo("invalid request: email: is required; display_name: is required");
  }
}
