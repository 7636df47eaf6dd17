package dev.users.bootstrap;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificate authorities and certificates made while the tests run, valid for an hour at most,
 * so that no key worth stealing is ever committed. Keys are EC P-256: quick to generate.
 */
final class TestPki {

  private static final Duration LIFETIME = Duration.ofHours(1);
  private static final SecureRandom RANDOM = new SecureRandom();

  private TestPki() {}

  /** A certificate and its private key, as the service and clients read them: PEM text. */
  record Issued(X509Certificate certificate, PrivateKey key) {

    String certificatePem() {
      try {
        return pem("CERTIFICATE", certificate.getEncoded());
      } catch (CertificateEncodingException e) {
        throw new IllegalStateException(e);
      }
    }

    /** PKCS#8, the form the service reads. */
    String keyPem() {
      return pem("PRIVATE KEY", key.getEncoded());
    }

    /** Writes the certificate and key over {@code certificateFile} and {@code keyFile}, each in one rename. */
    void writeTo(Path certificateFile, Path keyFile) {
      replace(certificateFile, certificatePem());
      replace(keyFile, keyPem());
    }
  }

  /** A self-signed CA that issues certificates. */
  record Authority(Issued self) {

    static Authority named(String name) {
      var keys = keyPair();
      var subject = new X500Name("CN=" + name);
      var now = Instant.now();
      var builder = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minus(Duration.ofMinutes(1))),
          Date.from(now.plus(LIFETIME)), subject, keys.getPublic());
      try {
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      return new Authority(new Issued(sign(builder, keys.getPrivate()), keys.getPrivate()));
    }

    /** A server certificate for {@code localhost} and 127.0.0.1. */
    Issued server(String name) {
      return issue(name, Instant.now().minus(Duration.ofMinutes(1)), Instant.now().plus(LIFETIME), true);
    }

    Issued client(String name) {
      return issue(name, Instant.now().minus(Duration.ofMinutes(1)), Instant.now().plus(LIFETIME), false);
    }

    /** A client certificate that expired a minute ago. */
    Issued expiredClient(String name) {
      return issue(name, Instant.now().minus(Duration.ofHours(1)), Instant.now().minus(Duration.ofMinutes(1)), false);
    }

    String certificatePem() {
      return self.certificatePem();
    }

    private Issued issue(String name, Instant notBefore, Instant notAfter, boolean server) {
      var keys = keyPair();
      var builder = new JcaX509v3CertificateBuilder(self.certificate(), serial(), Date.from(notBefore),
          Date.from(notAfter), new X500Name("CN=" + name), keys.getPublic());
      try {
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        builder.addExtension(Extension.extendedKeyUsage, false,
            new ExtendedKeyUsage(server ? KeyPurposeId.id_kp_serverAuth : KeyPurposeId.id_kp_clientAuth));
        if (server) {
          builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
              new GeneralName(GeneralName.dNSName, "localhost"),
              new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        }
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      return new Issued(sign(builder, self.key()), keys.getPrivate());
    }
  }

  /** Replaces {@code file} in one rename, as a kubelet swaps a mounted Secret. */
  static void replace(Path file, String content) {
    try {
      var next = Files.writeString(file.resolveSibling(file.getFileName() + ".next"), content);
      Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyPair keyPair() {
    try {
      var generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(256);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static BigInteger serial() {
    return new BigInteger(64, RANDOM);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey) {
    try {
      var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey);
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    } catch (OperatorCreationException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
