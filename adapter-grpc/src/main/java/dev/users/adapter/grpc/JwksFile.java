package dev.users.adapter.grpc;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public keys tokens are verified with: a JWKS document in a file, re-read when it changes so
 * that the issuer's keys can rotate without a restart.
 *
 * <p>Changes are found by reading the file and comparing its bytes on a schedule rather than by
 * its modification time: the file is small, and a Kubernetes secret mount replaces it through a
 * symbolic link whose target's time says little. A file that cannot be read or parsed keeps the
 * keys loaded before and logs one WARN line (until it changes again).
 */
public final class JwksFile implements JWKSource<SecurityContext> {

  private static final Logger log = LoggerFactory.getLogger(JwksFile.class);

  private final Path path;
  private volatile JWKSet keys;
  /** What the file held when it was last read, loaded or not; guarded by this. */
  private byte[] lastSeen;
  /** Whether the last attempt to read the file failed; guarded by this. */
  private boolean unreadable;

  private JwksFile(Path path, byte[] content, JWKSet keys) {
    this.path = path;
    this.lastSeen = content;
    this.keys = keys;
  }

  /**
   * Reads the keys once.
   *
   * @throws IOException when the file cannot be read, is not a JWKS document, or holds no public
   *     key; the message says which, in one line
   */
  public static JwksFile load(Path path) throws IOException {
    var content = Files.readAllBytes(path);
    return new JwksFile(path, content, parse(content));
  }

  /** Re-reads the file every {@code interval} on {@code scheduler}, until it shuts down. */
  public void watch(ScheduledExecutorService scheduler, Duration interval) {
    scheduler.scheduleWithFixedDelay(this::reloadIfChanged, interval.toMillis(), interval.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** Loads the file again if its content changed since it was last read. */
  synchronized void reloadIfChanged() {
    byte[] content;
    try {
      content = Files.readAllBytes(path);
    } catch (IOException e) {
      if (!unreadable) {
        log.warn("cannot read the JWKS file {}; keeping the keys loaded before: {}", path, e.toString());
      }
      unreadable = true;
      return;
    }
    unreadable = false;
    if (Arrays.equals(content, lastSeen)) {
      return;
    }
    lastSeen = content;
    try {
      keys = parse(content);
      log.info("reloaded the JWKS file {}: key ids {}", path, keyIds());
    } catch (IOException e) {
      log.warn("the JWKS file {} changed but {}; keeping the keys loaded before", path, e.getMessage());
    }
  }

  /** Whether a key has this id, whatever its type. */
  boolean hasKey(String keyId) {
    return keys.getKeyByKeyId(keyId) != null;
  }

  @Override
  public List<JWK> get(JWKSelector selector, SecurityContext context) {
    return selector.select(keys);
  }

  private List<String> keyIds() {
    return keys.getKeys().stream().map(JWK::getKeyID).toList();
  }

  /**
   * Keeps the public halves only: a private or symmetric key that slipped into the file must not
   * become a way to verify (HMAC keys would let anyone who knows them mint tokens).
   */
  private static JWKSet parse(byte[] content) throws IOException {
    JWKSet parsed;
    try {
      parsed = JWKSet.parse(new String(content, StandardCharsets.UTF_8)).toPublicJWKSet();
    } catch (ParseException e) {
      throw new IOException("is not a JWKS document (" + e.getMessage() + ")", e);
    }
    if (parsed.isEmpty()) {
      throw new IOException("holds no public key");
    }
    return parsed;
  }
}
