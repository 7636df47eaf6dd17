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
 * Checks the TLS files while the configuration is read, so that a bad file stops start-up with
 * one line naming its variable rather than with an exception from deep inside the server's start.
 * Parsing is grpc-java's own ({@link CertificateUtils}); the server reads the files again itself.
 */
final class TlsFiles {

  private static final String CERT = "USERS_TLS_CERT_FILE";
  private static final String KEY = "USERS_TLS_KEY_FILE";

  private TlsFiles() {}

  /** @return {@code tls}, once its certificate chain and private key parse and belong together */
  static Config.Tls check(Config.Tls tls) {
    var leaf = certificateChain(tls.certificateChain())[0];
    var key = privateKey(tls.privateKey());
    if (!belongTogether(leaf, key)) {
      throw new ConfigException(KEY,
          "does not match the certificate in " + CERT + " (\"" + tls.privateKey() + "\")");
    }
    return tls;
  }

  private static X509Certificate[] certificateChain(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      var chain = CertificateUtils.getX509Certificates(in);
      if (chain.length > 0) {
        return chain;
      }
    } catch (IOException | GeneralSecurityException e) {
      // Reported below, in one line.
    }
    throw new ConfigException(CERT, "must name a PEM file holding an X.509 certificate chain, got \"" + file + "\"");
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
