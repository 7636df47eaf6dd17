package dev.users.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UserIdTest {

  @Test
  void parsesTheCanonicalForm() {
    var text = "0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8b";
    assertThat(UserId.parse(text)).isEqualTo(new UserId(UUID.fromString(text)));
    assertThat(UserId.parse(text).toString()).isEqualTo(text);
  }

  @ParameterizedTest
  @ValueSource(strings = {"1-1-1-1-1", "0190b6e05f2a7c3e9a4b3c2d1e0f9a8b", "not-a-uuid", "0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8bb",
      "0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8", "0190b6e0-5f2a-7c3e-9a4b+3c2d1e0f9a8b", "0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8g",
      "0190b6e0-5f2a7-c3e-9a4b-3c2d1e0f9a8b", "\uff10190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8b",
      "0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8\u0663"})
  void rejectsAnythingElseNamingTheIdField(String text) {
    assertThatThrownBy(() -> UserId.parse(text))
        .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.violations())
            .extracting(FieldViolation::field)
            .containsExactly("id"));
  }

  @Test
  void readsEveryUuidAsTheJdkDoesInEitherCase() {
    var random = new java.util.Random(42);
    for (int i = 0; i < 10_000; i++) {
      var uuid = new UUID(random.nextLong(), random.nextLong());
      assertThat(UserId.parse(uuid.toString()).value()).isEqualTo(uuid);
      assertThat(UserId.parse(uuid.toString().toUpperCase(java.util.Locale.ROOT)).value()).isEqualTo(uuid);
    }
  }

  @Test
  void requiresAValue() {
    assertThatThrownBy(() -> UserId.parse(""))
        .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.violations())
            .containsExactly(new FieldViolation("id", "is required")));
  }

  @Test
  void ordersAsUnsigned128BitNumbersLikePostgresql() {
    var low = UserId.parse("00000000-0000-7000-0000-000000000001");
    var variantBitSet = UserId.parse("00000000-0000-7000-8000-000000000000");
    var highBitSet = UserId.parse("80000000-0000-7000-0000-000000000000");
    var highest = UserId.parse("ffffffff-ffff-7fff-bfff-ffffffffffff");

    assertThat(low).isLessThan(variantBitSet);
    assertThat(variantBitSet).isLessThan(highBitSet);
    assertThat(highBitSet).isLessThan(highest);
    assertThat(highBitSet.value()).as("UUID.compareTo disagrees, which is why UserId has its own")
        .isLessThan(low.value());
  }
}
