package dev.users.bootstrap;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS server credentials whose certificate, key and client CAs follow their files: every reload
 * interval the files are read, and when their content has changed and loads, new handshakes use
 * it. Connections already open keep the session they negotiated.
 *
 * <p>grpc-java's {@link AdvancedTlsX509KeyManager} and {@link AdvancedTlsX509TrustManager} serve
 * the credentials, but their own file watching is not used: it polls at most once a minute, logs
 * a stack trace at SEVERE on every poll while a file is bad, reloads the key only when both files
 * changed, and would install a key that does not belong to the certificate. Here a reload is
 * {@link TlsFiles#load}, the start-up check itself, and a failure is one WARN line per change.
 */
final class ReloadingTlsCredentials {

  private static final Logger log = LoggerFactory.getLogger(ReloadingTlsCredentials.class);

  private final Config.Tls tls;
  private final AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
  private final AdvancedTlsX509TrustManager trustManager;
  /** Digest of the files' content last tried, loaded or not; only the reload task touches it. */
  private byte[] lastTried;

  private ReloadingTlsCredentials(Config.Tls tls) throws GeneralSecurityException {
    this.tls = tls;
    // Client certificates are checked against the CAs only: clients have no host name to match.
    this.trustManager = AdvancedTlsX509TrustManager.newBuilder()
        .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
        .build();
  }

  /**
   * Loads the files now and reloads them every {@link Config.Tls#reloadInterval()} on
   * {@code scheduler}, until it shuts down.
   *
   * @throws ConfigException when a file no longer loads since the configuration was read
   */
  static ServerCredentials start(Config.Tls tls, ScheduledExecutorService scheduler) {
    try {
      var credentials = new ReloadingTlsCredentials(tls);
      credentials.lastTried = credentials.digest();
      credentials.apply(TlsFiles.load(tls));
      long interval = tls.reloadInterval().toMillis();
      scheduler.scheduleWithFixedDelay(credentials::reloadIfChanged, interval, interval, TimeUnit.MILLISECONDS);
      return credentials.serverCredentials();
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot hold certificates it has parsed", e);
    }
  }

  // Netty's defaults already offer TLS 1.3 and 1.2 only, preferring 1.3 (grpc-java sets no
  // protocols); TlsChannelTest checks both, and that a TLS 1.1 client is refused.
  private ServerCredentials serverCredentials() {
    return TlsServerCredentials.newBuilder()
        .keyManager(keyManager)
        .trustManager(new NamingNoIssuers(trustManager))
        .clientAuth(switch (tls.clientAuth()) {
          case NONE -> TlsServerCredentials.ClientAuth.NONE;
          case OPTIONAL -> TlsServerCredentials.ClientAuth.OPTIONAL;
          case REQUIRE -> TlsServerCredentials.ClientAuth.REQUIRE;
        })
        .build();
  }

  private void apply(TlsFiles.Credentials credentials) throws IOException, GeneralSecurityException {
    keyManager.updateIdentityCredentials(credentials.certificateChain(), credentials.privateKey());
    if (credentials.clientCas().length > 0) {
      trustManager.updateTrustCredentials(credentials.clientCas());
    }
  }

  private void reloadIfChanged() {
    var digest = digest();
    if (MessageDigest.isEqual(digest, lastTried)) {
      return;
    }
    lastTried = digest;
    try {
      var credentials = TlsFiles.load(tls);
      apply(credentials);
      var certificate = credentials.certificateChain()[0];
      log.info("reloaded the TLS files: certificate {} valid until {}{}", certificate.getSubjectX500Principal(),
          certificate.getNotAfter().toInstant(), credentials.clientCas().length > 0
              ? ", " + credentials.clientCas().length + " client CA(s)" : "");
    } catch (ConfigException e) {
      log.warn("TLS files not reloaded, still serving the previous certificate and CAs: {}", e.getMessage());
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      // Not only logged: an exception thrown out of the task would end the reloading for good.
      log.warn("TLS files not reloaded, still serving the previous certificate and CAs: {}", e.toString());
    }
  }

  /** Unreadable files count as empty: loading them then fails and says which it is. */
  private byte[] digest() {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
    var files = new ArrayList<Path>();
    files.add(tls.certificateChain());
    files.add(tls.privateKey());
    tls.clientCas().ifPresent(files::add);
    for (var file : files) {
      byte[] content;
      try {
        content = Files.readAllBytes(file);
      } catch (IOException e) {
        content = new byte[0];
      }
      sha256.update(ByteBuffer.allocate(Integer.BYTES).putInt(content.length).array());
      sha256.update(content);
    }
    return sha256.digest();
  }

  /**
   * Judges client certificates as {@code delegate} does, but names no CA to clients. Netty's
   * OpenSSL server sends the names it reads when the server starts, and JDK and Go clients
   * present a certificate only when its issuer is named: after the CA file is rotated, clients of
   * the new CA would present none until a restart. Named nowhere, every client presents its
   * certificate, and the CAs as last reloaded decide.
   */
  private static final class NamingNoIssuers extends X509ExtendedTrustManager {

    private final X509ExtendedTrustManager delegate;

    NamingNoIssuers(X509ExtendedTrustManager delegate) {
      this.delegate = delegate;
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      delegate.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      delegate.checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      delegate.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      delegate.checkServerTrusted(chain, authType);
    }
  }

  /** How the start-up log line describes the channel. */
  static String describe(Config.Tls tls) {
    return "on, client certificates " + switch (tls.clientAuth()) {
      case NONE -> "not asked for";
      case OPTIONAL -> "optional";
      case REQUIRE -> "required";
    } + ", files reloaded every " + tls.reloadInterval().toMillis() + " ms";
  }
}
