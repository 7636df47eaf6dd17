package dev.users.adapter.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.domain.FieldViolation;
import dev.users.domain.InvalidInputException;
import dev.users.domain.UserId;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PageTokensTest {

  private static final UserId LAST = UserId.parse("0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8b");

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
  void aTokenIsThePlainVersionedPositionSoAnyWellFormedOneIsAccepted() {
    var position = UserId.parse("0190b6e0-5f2a-7c3e-9a4b-000000000001");
    var bytes = ByteBuffer.allocate(17)
        .put((byte) 1)
        .putLong(position.value().getMostSignificantBits())
        .putLong(position.value().getLeastSignificantBits());
    var built = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.array());

    assertThat(PageTokens.decode(built)).contains(position);
  }

  @ParameterizedTest
  @MethodSource("malformedTokens")
  void rejectsMalformedTokensWithoutClaimingWhoIssuedThem(String token) {
    assertThatThrownBy(() -> PageTokens.decode(token))
        .as("token %s", token)
        .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.violations())
            .singleElement()
            .satisfies(violation -> {
              assertThat(violation.field()).isEqualTo("page_token");
              assertThat(violation.description())
                  .isEqualTo("is not a valid page token: pass a next_page_token from an earlier ListUsers"
                      + " response unchanged")
                  .doesNotContain("issued by");
            }));
  }

  static Stream<String> malformedTokens() {
    var token = PageTokens.encode(LAST);
    var bytes = Base64.getUrlDecoder().decode(token);
    bytes[0] = 2;
    return Stream.of(
        token.substring(0, token.length() - 1),
        token + "A",
        token + "==",
        "not a token",
        LAST.toString(),
        Base64.getUrlEncoder().withoutPadding().encodeToString(bytes),
        // The same bytes with the unused low bits of the last character set.
        token.substring(0, token.length() - 1) + (char) (token.charAt(token.length() - 1) + 1),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  }
}
