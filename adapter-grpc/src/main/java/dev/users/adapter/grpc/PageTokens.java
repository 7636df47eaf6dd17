package dev.users.adapter.grpc;

import dev.users.domain.InvalidInputException;
import dev.users.domain.UserId;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;

/**
 * ListUsers page tokens: where a listing resumes, namely right after the id of the last user a
 * message carried.
 *
 * <p>A token is the unpadded base64url form of a format version byte and the 16 bytes of the id.
 * It is a plain encoding, not a signature: the id is no secret (the client has seen it in the
 * message) and resuming after an id of the client's choosing shows it nothing a listing would
 * not, so a key to distribute and rotate would buy nothing. Decoding therefore checks only that
 * the token is well formed, and says no more when it is not. The version byte lets a later format
 * be told apart from this one.
 */
final class PageTokens {

  private static final byte FORMAT_VERSION = 1;
  private static final int TOKEN_BYTES = 1 + 16;

  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

  private PageTokens() {}

  static String encode(UserId lastId) {
    var token = ByteBuffer.allocate(TOKEN_BYTES)
        .put(FORMAT_VERSION)
        .putLong(lastId.value().getMostSignificantBits())
        .putLong(lastId.value().getLeastSignificantBits());
    return ENCODER.encodeToString(token.array());
  }

  /**
   * @return the id to resume after, or empty for an empty token: the listing starts at the first
   *     user
   * @throws InvalidInputException naming {@code page_token} when the token is not well formed
   */
  static Optional<UserId> decode(String token) {
    if (token.isEmpty()) {
      return Optional.empty();
    }
    byte[] bytes;
    try {
      bytes = DECODER.decode(token);
    } catch (IllegalArgumentException e) {
      throw malformed();
    }
    // Re-encoding rejects other spellings of the same bytes (padding, unused low bits), so that
    // only tokens exactly as encoded are accepted.
    if (bytes.length != TOKEN_BYTES || bytes[0] != FORMAT_VERSION || !ENCODER.encodeToString(bytes).equals(token)) {
      throw malformed();
    }
    var id = ByteBuffer.wrap(bytes, 1, TOKEN_BYTES - 1);
    return Optional.of(new UserId(new UUID(id.getLong(), id.getLong())));
  }

  private static InvalidInputException malformed() {
    return InvalidInputException.of("page_token",
        "is not a valid page token: pass a next_page_token from an earlier ListUsers response unchanged");
  }
}
