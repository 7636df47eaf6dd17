package dev.users.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.SignedJWT;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenCommandTest {

  @Test
  void aTokenFromAPrivateJwkCarriesTheClaimsTheServiceChecksAndItsKid(@TempDir Path dir) throws Exception {
    var key = new ECKeyGenerator(Curve.P_256).keyID("dev-1").generate();
    var file = Files.writeString(dir.resolve("signing-key.json"), key.toJSONString());

    var run = CliRun.of("token", "--key", file.toString(), "--issuer", "https://issuer.test", "--audience", "users-service",
        "--subject", "ops", "--scope", "users.admin", "--scope", "users.read", "--ttl", "10m");

    assertThat(run.exitCode()).isZero();
    var jwt = SignedJWT.parse(run.out().strip());
    assertThat(jwt.verify(new ECDSAVerifier(key.toPublicJWK()))).isTrue();
    assertThat(jwt.getHeader().getKeyID()).isEqualTo("dev-1");
    var claims = jwt.getJWTClaimsSet();
    assertThat(claims.getIssuer()).isEqualTo("https://issuer.test");
    assertThat(claims.getAudience()).containsExactly("users-service");
    assertThat(claims.getSubject()).isEqualTo("ops");
    assertThat(claims.getStringClaim("scope")).isEqualTo("users.admin users.read");
    assertThat(Duration.between(Instant.now(), claims.getExpirationTime().toInstant()))
        .isBetween(Duration.ofMinutes(9), Duration.ofMinutes(10));
  }

  @Test
  void aTokenFromAPkcs8PemKeyIsSignedWithItUnderTheKidGiven(@TempDir Path dir) throws Exception {
    var generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    var pair = generator.generateKeyPair();
    var pem = "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(pair.getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
    var file = Files.writeString(dir.resolve("key.pem"), pem);

    var run = CliRun.of("token", "--key", file.toString(), "--key-id", "rsa-1", "--subject", "svc");

    assertThat(run.exitCode()).isZero();
    var jwt = SignedJWT.parse(run.out().strip());
    assertThat(jwt.verify(new RSASSAVerifier((RSAPublicKey) pair.getPublic()))).isTrue();
    assertThat(jwt.getHeader().getKeyID()).isEqualTo("rsa-1");
    assertThat(jwt.getJWTClaimsSet().getIssuer()).as("DevTokens' issuer by default").isEqualTo("users-dev");
    assertThat(jwt.getJWTClaimsSet().getClaims()).doesNotContainKey("scope");
  }

  @Test
  void aPublicKeyIsRefusedWithAUsageError(@TempDir Path dir) throws Exception {
    var key = new ECKeyGenerator(Curve.P_256).keyID("dev-1").generate();
    var file = Files.writeString(dir.resolve("jwks-key.json"), key.toPublicJWK().toJSONString());

    var run = CliRun.of("token", "--key", file.toString(), "--subject", "ops");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("the JWK is a public key");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void aTokenNeedsAKey() {
    var run = CliRun.of("token", "--subject", "ops");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("give --key FILE");
    assertThat(List.of(run.out())).containsExactly("");
  }
}
