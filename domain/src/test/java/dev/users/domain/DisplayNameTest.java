package dev.users.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DisplayNameTest {

  @Test
  void isTrimmed() {
    assertThat(new DisplayName("\u2003 Ada Lovelace  ").value()).isEqualTo("Ada Lovelace");
  }

  @Test
  void countsCodePointsNotUtf16Units() {
    var hundredEmoji = "\uD83D\uDE00".repeat(DisplayName.MAX_LENGTH);
    assertThat(new DisplayName(hundredEmoji).value()).isEqualTo(hundredEmoji);
    assertRejected(hundredEmoji + "x", "must be at most 100 characters");
  }

  @Test
  void acceptsOneCharacter() {
    assertThat(new DisplayName("A").value()).isEqualTo("A");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " \t "})
  void requiresAValue(String blank) {
    assertRejected(blank, "is required");
  }

  @ParameterizedTest
  @ValueSource(strings = {"Ada\u0000", "Ada\nLovelace", "Ada\u007fL", "Ada\u0085L"})
  void rejectsControlCharacters(String name) {
    assertRejected(name, "must not contain control characters");
  }

  @Test
  void rebuildsAStoredNameLongerThanTodaysLimit() {
    var longer = "a".repeat(DisplayName.MAX_LENGTH + 20);

    assertThat(DisplayName.fromStorage(longer).value()).isEqualTo(longer);
  }

  @Test
  void equalsTheSameNameWhetherGivenOrStored() {
    assertThat(DisplayName.fromStorage("Ada"))
        .isEqualTo(new DisplayName("Ada"))
        .hasSameHashCodeAs(new DisplayName("Ada"));
  }

  private static void assertRejected(String name, String description) {
    assertThatThrownBy(() -> new DisplayName(name))
        .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.violations())
            .containsExactly(new FieldViolation("display_name", description)));
  }
}
