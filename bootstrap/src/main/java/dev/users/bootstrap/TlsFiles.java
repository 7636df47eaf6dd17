package dev.users.bootstrap;

import io.grpc.util.CertificateUtils;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;

/**
 * Reads and checks the TLS files, at start-up and at every reload, so that a bad file is reported
 * in one line naming its variable: at start-up it stops the service, on reload the previous
 * credentials stay. Parsing is grpc-java's own ({@link CertificateUtils}).
 */
final class TlsFiles {

  private static final String CERT = "USERS_TLS_CERT_FILE";
  private static final String KEY = "USERS_TLS_KEY_FILE";
  private static final String CLIENT_CAS = "USERS_TLS_CLIENT_CA_FILE";

  /**
   * What the files held when read, parsed and checked.
   *
   * @param clientCas empty when client certificates are not asked for
   */
  record Credentials(X509Certificate[] certificateChain, PrivateKey privateKey, X509Certificate[] clientCas) {}

  private TlsFiles() {}

  /** @return {@code tls}, once its files {@linkplain #load load} */
  static Config.Tls check(Config.Tls tls) {
    load(tls);
    return tls;
  }

  /**
   * Reads the files of {@code tls} as they are now.
   *
   * @throws ConfigException naming the variable of the first file that does not parse, or the key
   *     when it does not belong to the certificate
   */
  static Credentials load(Config.Tls tls) {
    var chain = certificates(CERT, tls.certificateChain(), "an X.509 certificate chain");
    var key = privateKey(tls.privateKey());
    if (!belongTogether(chain[0], key)) {
      throw new ConfigException(KEY,
          "does not match the certificate in " + CERT + " (\"" + tls.privateKey() + "\")");
    }
    var clientCas = tls.clientCas()
        .map(file -> certificates(CLIENT_CAS, file, "the X.509 certificates of the CAs trusted for client certificates"))
        .orElseGet(() -> new X509Certificate[0]);
    return new Credentials(chain, key, clientCas);
  }

  private static X509Certificate[] certificates(String variable, Path file, String content) {
    try (InputStream in = Files.newInputStream(file)) {
      var certificates = CertificateUtils.getX509Certificates(in);
      if (certificates.length > 0) {
        return certificates;
      }
    } catch (IOException | GeneralSecurityException e) {
      // Reported below, in one line.
    }
    throw new ConfigException(variable, "must name a PEM file holding " + content + ", got \"" + file + "\"");
  }

  private static PrivateKey privateKey(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return CertificateUtils.getPrivateKey(in);
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      // IllegalArgumentException: the text between the PEM markers is not base64.
      throw new ConfigException(KEY,
          "must name a PEM file holding a PKCS#8 RSA or EC private key (BEGIN PRIVATE KEY), got \"" + file + "\"");
    }
  }

  /**
   * Signs a random challenge with the key and verifies it with the certificate: the same check
   * for RSA and EC keys, where comparing key material would differ per algorithm.
   */
  private static boolean belongTogether(X509Certificate certificate, PrivateKey key) {
    var algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      default -> throw new IllegalStateException("CertificateUtils reads RSA and EC keys only, got " + key.getAlgorithm());
    };
    var challenge = new byte[32];
    new SecureRandom().nextBytes(challenge);
    try {
      var signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      var signature = signer.sign();
      var verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      // An RSA key against an EC certificate, or the reverse: they cannot belong together.
      return false;
    }
  }
}
