package dev.users.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EmailTest {

  @Test
  void keepsTheAddressAsGivenButTrimmed() {
    assertThat(new Email("  Ada.Lovelace@Example.org\t").value()).isEqualTo("Ada.Lovelace@Example.org");
  }

  @Test
  void comparesIgnoringCaseThroughItsCanonicalForm() {
    assertThat(new Email("Ada@Example.ORG").canonical()).isEqualTo(new Email("ada@example.org").canonical());
  }

  @Test
  void canonicalFormDoesNotDependOnTheDefaultLocale() {
    var turkish = java.util.Locale.forLanguageTag("tr");
    var previous = java.util.Locale.getDefault();
    java.util.Locale.setDefault(turkish);
    try {
      assertThat(new Email("IRIS@example.org").canonical()).isEqualTo("iris@example.org");
    } finally {
      java.util.Locale.setDefault(previous);
    }
  }

  @Test
  void acceptsTheLongestAllowedAddress() {
    var address = "a".repeat(Email.MAX_LENGTH - "@example.org".length()) + "@example.org";
    assertThat(new Email(address).value()).hasSize(Email.MAX_LENGTH);
  }

  @Test
  void rejectsAnAddressLongerThanTheLimit() {
    var address = "a".repeat(Email.MAX_LENGTH - "@example.org".length() + 1) + "@example.org";
    assertRejected(address, "must be at most 254 characters");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "   "})
  void requiresAValue(String blank) {
    assertRejected(blank, "is required");
  }

  @Test
  void treatsNullAsMissing() {
    assertRejected(null, "is required");
  }

  @ParameterizedTest
  @ValueSource(strings = {"ada.example.org", "ada@@example.org", "a@b@example.org"})
  void requiresExactlyOneAtSign(String address) {
    assertRejected(address, "must contain exactly one '@'");
  }

  @Test
  void requiresALocalPart() {
    assertRejected("@example.org", "must have a non-empty part before the '@'");
  }

  @ParameterizedTest
  @ValueSource(strings = {"ada@localhost", "ada@", "ada@.example.org", "ada@example.", "ada@example..org"})
  void requiresADomainWithADot(String address) {
    assertRejected(address, "must have a domain such as example.com after the '@'");
  }

  @ParameterizedTest
  @ValueSource(strings = {"ada lovelace@example.org", "ada@exam\u0000ple.org", "ada\u00a0l@example.org", "ada\n@example.org"})
  void rejectsWhitespaceAndControlCharactersInside(String address) {
    assertRejected(address, "must not contain whitespace or control characters");
  }

  @Test
  void rebuildsAStoredAddressThatTodaysRulesRefuse() {
    var stored = Email.fromStorage("root@localhost");

    assertThat(stored.value()).isEqualTo("root@localhost");
    assertThat(stored.canonical()).isEqualTo("root@localhost");
  }

  @Test
  void equalsTheSameAddressWhetherGivenOrStored() {
    assertThat(Email.fromStorage("Ada@example.org"))
        .isEqualTo(new Email("Ada@example.org"))
        .hasSameHashCodeAs(new Email("Ada@example.org"));
  }

  private static void assertRejected(String address, String description) {
    assertThatThrownBy(() -> new Email(address))
        .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.violations())
            .containsExactly(new FieldViolation("email", description)));
  }
}
