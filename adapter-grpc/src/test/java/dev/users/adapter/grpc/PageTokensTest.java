package dev.users.adapter.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.domain.FieldViolation;
import dev.users.domain.InvalidInputException;
import dev.users.domain.UserId;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PageTokensTest {

  private static final UserId LAST = UserId.parse("0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8b");
  private static final String BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

  @Test
  void aTokenResumesAfterTheUserItWasIssuedFor() {
    assertThat(PageTokens.decode(PageTokens.encode(LAST))).contains(LAST);
  }

  @Test
  void aTokenIsOpaqueUrlSafeTextWithoutPadding() {
    assertThat(PageTokens.encode(LAST))
        .doesNotContain(LAST.toString(), "=")
        .matches("[A-Za-z0-9_-]+");
  }

  @Test
  void anEmptyTokenStartsAtTheFirstUser() {
    assertThat(PageTokens.decode("")).isEmpty();
  }

  @Test
  void rejectsEveryTokenWithOneCharacterChanged() {
    var token = PageTokens.encode(LAST);
    IntStream.range(0, token.length()).forEach(position -> {
      char original = token.charAt(position);
      char other = BASE64URL.charAt((BASE64URL.indexOf(original) + 1) % BASE64URL.length());
      assertRejected(token.substring(0, position) + other + token.substring(position + 1));
    });
  }

  @ParameterizedTest
  @MethodSource("malformedTokens")
  void rejectsTextThatIsNoTokenOfThisService(String token) {
    assertRejected(token);
  }

  static Stream<String> malformedTokens() {
    var token = PageTokens.encode(LAST);
    return Stream.of(
        token.substring(0, token.length() - 1),
        token + "A",
        token + "==",
        "not a token",
        LAST.toString(),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  }

  private static void assertRejected(String token) {
    assertThatThrownBy(() -> PageTokens.decode(token))
        .as("token %s", token)
        .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.violations())
            .extracting(FieldViolation::field)
            .containsExactly("page_token"));
  }
}
