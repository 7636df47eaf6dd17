package dev.users.adapter.grpc;

import dev.users.domain.InvalidInputException;
import dev.users.domain.UserId;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;

/**
 * ListUsers page tokens: where a listing resumes, namely right after the id of the last user a
 * message carried.
 *
 * <p>A token is the unpadded base64url form of a format version byte, the 16 bytes of the id, and
 * the first bytes of a SHA-256 over those and a context string. The id is not secret (the client
 * has seen it in the message), so a checksum rather than a keyed MAC is enough to tell a token
 * this service issued from an edited, truncated or made-up one, with no key to distribute or
 * rotate. The version byte lets a later format be told apart from this one.
 */
final class PageTokens {

  private static final byte FORMAT_VERSION = 1;
  private static final int ID_BYTES = 16;
  private static final int CHECKED_BYTES = 1 + ID_BYTES;
  /** 64 bits: an edited token passes only by a chance of one in 2^64. */
  private static final int CHECKSUM_BYTES = 8;
  private static final int TOKEN_BYTES = CHECKED_BYTES + CHECKSUM_BYTES;
  /** Keeps a checksum computed for another purpose over the same bytes from passing as a token. */
  private static final byte[] CONTEXT = "users.v1.ListUsers.page_token".getBytes(StandardCharsets.US_ASCII);

  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

  private PageTokens() {}

  static String encode(UserId lastId) {
    var token = ByteBuffer.allocate(TOKEN_BYTES)
        .put(FORMAT_VERSION)
        .putLong(lastId.value().getMostSignificantBits())
        .putLong(lastId.value().getLeastSignificantBits());
    token.put(checksum(token.array()));
    return ENCODER.encodeToString(token.array());
  }

  /**
   * @return the id to resume after, or empty for an empty token: the listing starts at the first
   *     user
   * @throws InvalidInputException naming {@code page_token} when this service did not issue the
   *     token
   */
  static Optional<UserId> decode(String token) {
    if (token.isEmpty()) {
      return Optional.empty();
    }
    byte[] bytes;
    try {
      bytes = DECODER.decode(token);
    } catch (IllegalArgumentException e) {
      throw notIssuedHere();
    }
    // Re-encoding rejects other spellings of the same bytes (padding, unused low bits), so that
    // only tokens exactly as issued are accepted.
    if (bytes.length != TOKEN_BYTES
        || bytes[0] != FORMAT_VERSION
        || !MessageDigest.isEqual(checksum(bytes), Arrays.copyOfRange(bytes, CHECKED_BYTES, TOKEN_BYTES))
        || !ENCODER.encodeToString(bytes).equals(token)) {
      throw notIssuedHere();
    }
    var id = ByteBuffer.wrap(bytes, 1, ID_BYTES);
    return Optional.of(new UserId(new UUID(id.getLong(), id.getLong())));
  }

  private static byte[] checksum(byte[] token) {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform must provide SHA-256", e);
    }
    sha256.update(token, 0, CHECKED_BYTES);
    sha256.update(CONTEXT);
    return Arrays.copyOf(sha256.digest(), CHECKSUM_BYTES);
  }

  private static InvalidInputException notIssuedHere() {
    return InvalidInputException.of("page_token", "is not a page token issued by this service");
  }
}
