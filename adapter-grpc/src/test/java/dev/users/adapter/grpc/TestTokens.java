package dev.users.adapter.grpc;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * An issuer for tests: an ES256 key pair made for the test run, its JWKS, and tokens signed with
 * it, valid unless a test spoils them on purpose.
 */
public final class TestTokens {

  public static final String ISSUER = "https://issuer.test";
  public static final String AUDIENCE = "users-service";

  private final ECKey key;

  private TestTokens(ECKey key) {
    this.key = key;
  }

  /** A new key pair whose public key carries {@code keyId}. */
  public static TestTokens withKey(String keyId) {
    try {
      return new TestTokens(new ECKeyGenerator(Curve.P_256).keyID(keyId).generate());
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes the JWKS holding this issuer's public key to {@code file}, replacing what was there. */
  public Path writeJwks(Path file) {
    try {
      var temporary = Files.writeString(file.resolveSibling(file.getFileName() + ".new"),
          new JWKSet(key.toPublicJWK()).toString());
      // Replaced in one step, as a secret mount does: a reader never sees half a file.
      return Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A token for {@code subject} with {@code scopes}, valid for five minutes from now. */
  public Token token(String subject, String... scopes) {
    var now = Instant.now();
    return new Token(new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .subject(subject)
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(Duration.ofMinutes(5))))
        .claim("scope", scopes.length == 0 ? null : String.join(" ", List.of(scopes))),
        key.getKeyID());
  }

  /** A token being made: change what a test needs spoilt, then {@link #sign()}. */
  public final class Token {

    private final JWTClaimsSet.Builder claims;
    private String keyId;

    private Token(JWTClaimsSet.Builder claims, String keyId) {
      this.claims = claims;
      this.keyId = keyId;
    }

    public Token claims(UnaryOperator<JWTClaimsSet.Builder> change) {
      change.apply(claims);
      return this;
    }

    public Token keyId(String keyId) {
      this.keyId = keyId;
      return this;
    }

    /** Signed ES256 with this issuer's private key. */
    public String sign() {
      var jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(keyId).build(), claims.build());
      try {
        jwt.sign(new ECDSASigner(key));
      } catch (JOSEException e) {
        throw new IllegalStateException(e);
      }
      return jwt.serialize();
    }

    /** The claims as they stand, for a test that signs them some other way. */
    public JWTClaimsSet claimsSet() {
      return claims.build();
    }
  }
}
