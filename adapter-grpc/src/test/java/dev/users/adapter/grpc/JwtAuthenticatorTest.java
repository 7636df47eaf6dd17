package dev.users.adapter.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.users.adapter.grpc.JwtAuthenticator.Refusal;
import dev.users.application.access.Caller;
import dev.users.application.access.NotAuthenticatedException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class JwtAuthenticatorTest {

  private static final TestTokens ISSUER = TestTokens.withKey("key-1");
  /** Another key pair that claims the issuer's key id: its signatures must not verify. */
  private static final TestTokens FORGER = TestTokens.withKey("key-1");

  private JwtAuthenticator authenticator;

  @BeforeEach
  void trustTheIssuer(@TempDir Path dir) throws IOException {
    var keys = JwksFile.load(ISSUER.writeJwks(dir.resolve("jwks.json")));
    authenticator = new JwtAuthenticator(keys, TestTokens.ISSUER, TestTokens.AUDIENCE);
  }

  @Test
  void aValidTokenIsItsSubjectWithTheScopesOfItsScopeClaim() {
    var caller = authenticator.authenticate(ISSUER.token("reporting", "users.read", "users.write").sign());

    assertThat(caller).isEqualTo(new Caller("reporting", Set.of("users.read", "users.write")));
  }

  @Test
  void aTokenWithoutScopeClaimIsACallerWithoutScopes() {
    assertThat(authenticator.authenticate(ISSUER.token("0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8b").sign()).scopes())
        .isEmpty();
  }

  @Test
  void anAudienceListNeedsToIncludeTheAudienceOnly() {
    var token = ISSUER.token("reporting").claims(c -> c.audience(java.util.List.of("other", TestTokens.AUDIENCE)));

    assertThat(authenticator.authenticate(token.sign()).subject()).isEqualTo("reporting");
  }

  @Test
  void clocksMayDisagreeByLessThanAMinute() {
    var now = Instant.now();
    var token = ISSUER.token("reporting").claims(c -> c
        .expirationTime(Date.from(now.minusSeconds(30)))
        .notBeforeTime(Date.from(now.plusSeconds(30)))
        .issueTime(Date.from(now.plusSeconds(30))));

    assertThat(authenticator.authenticate(token.sign()).subject()).isEqualTo("reporting");
  }

  static Stream<Arguments> refusedTokens() {
    var now = Instant.now();
    Function<TestTokens.Token, String> signed = TestTokens.Token::sign;
    return Stream.of(
        Arguments.of("not a JWT", (Function<TestTokens.Token, String>) token -> "not.a.jwt", Refusal.MALFORMED),
        Arguments.of("expired more than a minute ago", spoilt(c -> c.expirationTime(Date.from(now.minusSeconds(90))), signed),
            Refusal.EXPIRED),
        Arguments.of("valid only more than a minute from now",
            spoilt(c -> c.notBeforeTime(Date.from(now.plusSeconds(90))), signed), Refusal.NOT_YET_VALID),
        Arguments.of("issued more than a minute from now",
            spoilt(c -> c.issueTime(Date.from(now.plusSeconds(90))), signed), Refusal.NOT_YET_VALID),
        Arguments.of("from another issuer", spoilt(c -> c.issuer("https://elsewhere.test"), signed), Refusal.WRONG_ISSUER),
        Arguments.of("for another audience", spoilt(c -> c.audience("billing"), signed), Refusal.WRONG_AUDIENCE),
        Arguments.of("without an audience", spoilt(c -> c.audience((String) null), signed), Refusal.WRONG_AUDIENCE),
        Arguments.of("without an expiry", spoilt(c -> c.expirationTime(null), signed), Refusal.MISSING_CLAIM),
        Arguments.of("without a subject", spoilt(c -> c.subject(null), signed), Refusal.MISSING_CLAIM),
        Arguments.of("with a scope that is not a string", spoilt(c -> c.claim("scope", java.util.List.of("users.admin")), signed),
            Refusal.BAD_SCOPE),
        Arguments.of("naming a key the JWKS lacks", (Function<TestTokens.Token, String>) token -> token.keyId("key-2").sign(),
            Refusal.UNKNOWN_KEY),
        Arguments.of("naming no key", (Function<TestTokens.Token, String>) token -> token.keyId(null).sign(),
            Refusal.UNKNOWN_KEY),
        Arguments.of("signed by another key", (Function<TestTokens.Token, String>) token -> FORGER.token("reporting").sign(),
            Refusal.BAD_SIGNATURE),
        Arguments.of("unsigned (alg none)",
            (Function<TestTokens.Token, String>) token -> new PlainJWT(token.claimsSet()).serialize(),
            Refusal.DISALLOWED_ALGORITHM),
        Arguments.of("signed with HMAC (HS256)", (Function<TestTokens.Token, String>) JwtAuthenticatorTest::hs256,
            Refusal.DISALLOWED_ALGORITHM));
  }

  @ParameterizedTest(name = "a token {0} is refused")
  @MethodSource("refusedTokens")
  void aTokenThatFailsACheckIsRefusedNamingTheCheck(
      String description, Function<TestTokens.Token, String> make, Refusal refusal) {
    var token = make.apply(ISSUER.token("reporting", "users.admin"));

    assertThatThrownBy(() -> authenticator.authenticate(token))
        .isInstanceOf(NotAuthenticatedException.class)
        .hasMessage(refusal.description)
        .message().doesNotContain(token);
  }

  private static Function<TestTokens.Token, String> spoilt(
      java.util.function.UnaryOperator<com.nimbusds.jwt.JWTClaimsSet.Builder> change,
      Function<TestTokens.Token, String> sign) {
    return token -> sign.apply(token.claims(change));
  }

  /** HMAC with the issuer's key id: the algorithm-confusion attack, which must fail on the algorithm alone. */
  private static String hs256(TestTokens.Token token) {
    var jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("key-1").build(), token.claimsSet());
    try {
      jwt.sign(new MACSigner(new byte[32]));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }
}
