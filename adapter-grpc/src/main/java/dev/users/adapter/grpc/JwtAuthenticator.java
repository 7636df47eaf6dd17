package dev.users.adapter.grpc;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.BadJWSException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.jwt.proc.ExpiredJWTException;
import dev.users.application.access.Caller;
import dev.users.application.access.NotAuthenticatedException;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns a bearer JWT into the {@link Caller} it vouches for, with nimbus-jose-jwt doing the
 * parsing, the signature and the standard claims.
 *
 * <p>A token is accepted when it is a JWS signed with an allowed asymmetric algorithm by the key of
 * the JWKS its {@code kid} names, its {@code iss} is the issuer and its {@code aud} includes the
 * audience, it has an {@code exp} and a {@code sub}, and {@code exp}, {@code nbf} and {@code iat}
 * hold now, give or take {@link #CLOCK_SKEW}. Scopes come from the space-separated {@code scope}
 * claim.
 */
public final class JwtAuthenticator {

  /** Clocks of issuers and servers drift; a minute is the common allowance. */
  static final Duration CLOCK_SKEW = Duration.ofSeconds(60);

  /**
   * Asymmetric signatures only. {@code none} would accept anything; an HMAC algorithm would let a
   * verifying key, meant to be public, sign tokens (the RS256/HS256 confusion attack).
   */
  static final Set<JWSAlgorithm> ALLOWED_ALGORITHMS = Set.of(
      JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
      JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
      JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);

  /** Why a token was refused: one line for the server's log, never anything from the token. */
  enum Refusal {
    MISSING("no bearer token in the authorization metadata"),
    MALFORMED("the bearer token is not a well-formed signed JWT"),
    DISALLOWED_ALGORITHM("the token's signing algorithm is not allowed"),
    UNKNOWN_KEY("the token's kid names no key of the JWKS"),
    BAD_SIGNATURE("the token's signature does not verify"),
    EXPIRED("the token has expired"),
    NOT_YET_VALID("the token is not valid yet (nbf or iat in the future)"),
    WRONG_ISSUER("the token's iss is not the configured issuer"),
    WRONG_AUDIENCE("the token's aud does not include the configured audience"),
    MISSING_CLAIM("the token lacks exp or sub"),
    BAD_SCOPE("the token's scope claim is not a string");

    final String description;

    Refusal(String description) {
      this.description = description;
    }

    NotAuthenticatedException exception() {
      return new NotAuthenticatedException(description);
    }
  }

  private final JwksFile keys;
  private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

  /**
   * Accepts tokens signed by a key of {@code keys} whose {@code iss} is {@code issuer} and whose
   * {@code aud} includes {@code audience}.
   */
  public JwtAuthenticator(JwksFile keys, String issuer, String audience) {
    this.keys = keys;
    processor.setJWSKeySelector(new JWSVerificationKeySelector<>(ALLOWED_ALGORITHMS, keys));
    var claims = new DefaultJWTClaimsVerifier<SecurityContext>(
        Set.of(audience),
        new JWTClaimsSet.Builder().issuer(issuer).build(),
        Set.of("exp", "sub"),
        Set.of());
    claims.setMaxClockSkew((int) CLOCK_SKEW.toSeconds());
    processor.setJWTClaimsSetVerifier(claims);
  }

  /**
   * @param token the JWT, without the {@code Bearer} scheme
   * @throws NotAuthenticatedException saying which check the token failed
   */
  Caller authenticate(String token) {
    var claims = verify(token);
    var issuedAt = claims.getIssueTime();
    // DefaultJWTClaimsVerifier checks exp and nbf only.
    if (issuedAt != null && issuedAt.toInstant().isAfter(Instant.now().plus(CLOCK_SKEW))) {
      throw Refusal.NOT_YET_VALID.exception();
    }
    String scope;
    try {
      scope = claims.getStringClaim("scope");
    } catch (ParseException e) {
      throw Refusal.BAD_SCOPE.exception();
    }
    var scopes = scope == null
        ? Set.<String>of()
        : Arrays.stream(scope.split(" ")).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
    if (claims.getSubject().isBlank()) {
      throw Refusal.MISSING_CLAIM.exception();
    }
    return new Caller(claims.getSubject(), scopes);
  }

  private JWTClaimsSet verify(String token) {
    SignedJWT jwt;
    try {
      if (!(JWTParser.parse(token) instanceof SignedJWT signed)) {
        // Unsecured (alg none) or encrypted: neither is a signature this service can check.
        throw Refusal.DISALLOWED_ALGORITHM.exception();
      }
      jwt = signed;
    } catch (ParseException e) {
      throw Refusal.MALFORMED.exception();
    }
    var header = jwt.getHeader();
    if (!ALLOWED_ALGORITHMS.contains(header.getAlgorithm())) {
      throw Refusal.DISALLOWED_ALGORITHM.exception();
    }
    // The key is chosen by kid alone: a token without one is not tried against every key.
    if (header.getKeyID() == null || !keys.hasKey(header.getKeyID())) {
      throw Refusal.UNKNOWN_KEY.exception();
    }
    try {
      return processor.process(jwt, null);
    } catch (BadJWSException e) {
      throw Refusal.BAD_SIGNATURE.exception();
    } catch (ExpiredJWTException e) {
      throw Refusal.EXPIRED.exception();
    } catch (BadJWTException e) {
      throw claimsRefusal(e).exception();
    } catch (BadJOSEException e) {
      // The algorithm is allowed and the kid known, so no key fits: the kid's key is of another
      // type than the algorithm needs, or the keys were replaced since the check above.
      throw Refusal.UNKNOWN_KEY.exception();
    } catch (JOSEException e) {
      // The signature could not even be checked against the key (wrong size, say).
      throw Refusal.BAD_SIGNATURE.exception();
    }
  }

  /**
   * DefaultJWTClaimsVerifier says which check failed only in its message; the tests pin each
   * message this reads, for the version of nimbus the build pins.
   */
  private static Refusal claimsRefusal(BadJWTException e) {
    var message = String.valueOf(e.getMessage());
    if (message.startsWith("JWT missing required claims")) {
      return Refusal.MISSING_CLAIM;
    } else if (message.equals("JWT before use time")) {
      return Refusal.NOT_YET_VALID;
    } else if (message.startsWith("JWT aud claim") || message.startsWith("JWT missing required aud")) {
      return Refusal.WRONG_AUDIENCE;
    } else if (message.startsWith("JWT iss claim")) {
      return Refusal.WRONG_ISSUER;
    }
    // The claims could not be read at all.
    return Refusal.MALFORMED;
  }
}
