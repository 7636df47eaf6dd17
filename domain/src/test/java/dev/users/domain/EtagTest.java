package dev.users.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EtagTest {

  @ParameterizedTest
  @ValueSource(longs = {1, 35, 36, 1_000_000, Long.MAX_VALUE})
  void readsBackWhatItWrites(long version) {
    var etag = new Etag(version);
    assertThat(Etag.parse(etag.toString())).isEqualTo(etag);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "0", "-1", "+1", "01", "_1", "1.0", "zzzzzzzzzzzzzzzzzzzz", "A"})
  void rejectsTextItCouldNotHaveIssued(String text) {
    assertThatThrownBy(() -> Etag.parse(text))
        .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.violations())
            .containsExactly(new FieldViolation("etag", "is not a valid etag: send back the etag of a user read from this service unchanged")));
  }
}
