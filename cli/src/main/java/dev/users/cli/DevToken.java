package dev.users.cli;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.impl.ECDSA;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;

/**
 * A signed JWT for the service's {@code jwt} authentication mode, for local development: the
 * service accepts it when its JWKS holds the public half of the key, under the token's
 * {@code kid}. Claims as the service reads them: {@code iss}, {@code aud}, {@code sub},
 * {@code iat}, {@code exp} and the scopes space-separated in {@code scope}.
 */
final class DevToken {

  /** The signing key and the {@code kid} naming it in the JWKS. */
  private record Signing(JWSSigner signer, JWSAlgorithm algorithm, String keyId) {}

  private DevToken() {}

  /**
   * @param key a private JWK (EC or RSA, as {@code DevTokens keys} writes) or a PKCS#8 PEM key
   * @param keyId the {@code kid}; null to take the JWK's own (a PEM key has none)
   * @throws IllegalArgumentException when the key cannot be used, saying why
   */
  static String mint(String key, String keyId, String issuer, String audience, String subject,
      List<String> scopes, Duration lifetime) {
    try {
      var signing = key.stripLeading().startsWith("{") ? fromJwk(key, keyId) : fromPem(key, keyId);
      if (signing.keyId() == null) {
        throw new IllegalArgumentException("the key has no kid: give --key-id, the kid of its public key in the JWKS");
      }
      var now = Instant.now();
      var claims = new JWTClaimsSet.Builder()
          .issuer(issuer)
          .audience(audience)
          .subject(subject)
          .issueTime(Date.from(now))
          .expirationTime(Date.from(now.plus(lifetime)));
      if (!scopes.isEmpty()) {
        claims.claim("scope", String.join(" ", scopes));
      }
      var jwt = new SignedJWT(new JWSHeader.Builder(signing.algorithm()).keyID(signing.keyId()).build(), claims.build());
      jwt.sign(signing.signer());
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalArgumentException("cannot sign with the key: " + e.getMessage(), e);
    }
  }

  private static Signing fromJwk(String json, String keyId) throws JOSEException {
    JWK jwk;
    try {
      jwk = JWK.parse(json);
    } catch (ParseException e) {
      throw new IllegalArgumentException("the key is not a JWK: " + e.getMessage(), e);
    }
    if (!jwk.isPrivate()) {
      throw new IllegalArgumentException("the JWK is a public key: a token is signed with the private one");
    }
    var kid = keyId != null ? keyId : jwk.getKeyID();
    return switch (jwk) {
      case ECKey ec -> new Signing(new ECDSASigner(ec), ECDSA.resolveAlgorithm(ec.getCurve()), kid);
      case RSAKey rsa -> new Signing(new RSASSASigner(rsa), JWSAlgorithm.RS256, kid);
      default -> throw new IllegalArgumentException("the service accepts EC and RSA keys, not " + jwk.getKeyType());
    };
  }

  private static Signing fromPem(String pem, String keyId) throws JOSEException {
    if (!pem.contains("-----BEGIN PRIVATE KEY-----")) {
      throw new IllegalArgumentException("the key is neither a JWK nor a PKCS#8 PEM private key"
          + " (convert one with: openssl pkcs8 -topk8 -nocrypt -in KEY)");
    }
    var base64 = pem.substring(pem.indexOf("-----BEGIN PRIVATE KEY-----") + "-----BEGIN PRIVATE KEY-----".length(),
        pem.indexOf("-----END PRIVATE KEY-----"));
    var der = new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(base64));
    return switch (privateKey(der)) {
      case ECPrivateKey ec -> new Signing(new ECDSASigner(ec), ECDSA.resolveAlgorithm(ec), keyId);
      case RSAPrivateKey rsa -> new Signing(new RSASSASigner(rsa), JWSAlgorithm.RS256, keyId);
      default -> throw new IllegalArgumentException("the service accepts EC and RSA keys only");
    };
  }

  private static PrivateKey privateKey(PKCS8EncodedKeySpec der) {
    for (var algorithm : List.of("EC", "RSA")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(der);
      } catch (GeneralSecurityException e) {
        // Not this algorithm's key: try the next one.
      }
    }
    throw new IllegalArgumentException("the PEM key is neither an EC nor an RSA private key");
  }
}
