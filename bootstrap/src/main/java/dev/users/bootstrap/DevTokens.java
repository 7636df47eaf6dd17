package dev.users.bootstrap;

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
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;

/**
 * Keys and bearer tokens for running the service with {@code USERS_AUTH=jwt} on a developer's
 * machine, with no identity provider. Not for production: whoever has the directory can mint any
 * token.
 *
 * <pre>
 * java -cp bootstrap/target/users-service.jar dev.users.bootstrap.DevTokens keys DIR
 * java -cp bootstrap/target/users-service.jar dev.users.bootstrap.DevTokens token DIR SUBJECT [SCOPE...]
 * </pre>
 *
 * <p>{@code keys} makes an ES256 key pair: the JWKS with its public key in {@code DIR/jwks.json},
 * the private key in {@code DIR/signing-key.json}, and prints the settings that make the service
 * trust it. {@code token} prints a token for {@code SUBJECT} with the scopes given, valid for
 * {@link #LIFETIME}.
 */
public final class DevTokens {

  static final String ISSUER = "users-dev";
  static final String AUDIENCE = "users-service";
  static final Duration LIFETIME = Duration.ofHours(1);

  private static final String USAGE = """
      usage: DevTokens keys DIR
             DevTokens token DIR SUBJECT [SCOPE...]   (scopes: users.admin, users.read, users.write)""";

  private DevTokens() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** @return the exit code: 0, 1 when the files cannot be written or read, 2 for bad arguments */
  static int run(String[] args, PrintStream out, PrintStream err) {
    try {
      if (args.length == 2 && args[0].equals("keys")) {
        writeKeys(Path.of(args[1]), out);
        return 0;
      }
      if (args.length >= 3 && args[0].equals("token")) {
        out.println(token(Path.of(args[1]), args[2], Arrays.copyOfRange(args, 3, args.length)));
        return 0;
      }
      err.println(USAGE);
      return 2;
    } catch (IOException | ParseException | JOSEException e) {
      err.println("DevTokens: " + e.getMessage());
      return 1;
    }
  }

  private static void writeKeys(Path dir, PrintStream out) throws IOException, JOSEException {
    var key = new ECKeyGenerator(Curve.P_256).keyID("dev-" + Instant.now().getEpochSecond()).generate();
    Files.createDirectories(dir);
    var signingKey = dir.resolve("signing-key.json");
    Files.deleteIfExists(signingKey);
    Files.createFile(signingKey);
    if (Files.getFileStore(signingKey).supportsFileAttributeView("posix")) {
      Files.setPosixFilePermissions(signingKey, PosixFilePermissions.fromString("rw-------"));
    }
    Files.writeString(signingKey, key.toJSONString());
    var jwks = Files.writeString(dir.resolve("jwks.json"), new JWKSet(key.toPublicJWK()).toString());
    out.println("USERS_AUTH=jwt");
    out.println("USERS_AUTH_JWKS_FILE=" + jwks.toAbsolutePath());
    out.println("USERS_AUTH_ISSUER=" + ISSUER);
    out.println("USERS_AUTH_AUDIENCE=" + AUDIENCE);
  }

  private static String token(Path dir, String subject, String[] scopes)
      throws IOException, ParseException, JOSEException {
    var key = ECKey.parse(Files.readString(dir.resolve("signing-key.json")));
    var now = Instant.now();
    var claims = new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .subject(subject)
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(LIFETIME)));
    if (scopes.length > 0) {
      claims.claim("scope", String.join(" ", scopes));
    }
    var jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(), claims.build());
    jwt.sign(new ECDSASigner(key));
    return jwt.serialize();
  }
}
