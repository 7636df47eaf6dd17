package dev.users.adapter.grpc;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.users.application.access.Caller;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.TimeMeter;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.protobuf.StatusProto;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Refuses a call of the users API, RESOURCE_EXHAUSTED with RetryInfo, when its caller has used up
 * its {@link RateLimit}: a token bucket per caller (Bucket4j), one token per call, streaming calls
 * included. The refusal says when the next token is due, in RetryInfo and in the
 * {@code grpc-retry-pushback-ms} trailer, which a grpc-java client with a retry policy waits for.
 *
 * <p>A caller is the authenticated subject, so one client's many connections share its bucket.
 * Without one, and for the {@linkplain Caller#unauthenticatedAdministrator() unauthenticated
 * administrator} that every call is when the service authenticates nobody, it is the peer's IP
 * address: one shared subject would let one client use up everybody's calls. Behind a proxy that
 * is the proxy's address; the forwarded-for headers are not trusted, as any client can send them.
 *
 * <p>Must run inside authentication, which puts the caller in the call's Context.
 *
 * <p>The buckets live in a Caffeine cache, so memory stays bounded whatever the callers do: a
 * bucket idle for one period is full again and is dropped, as a new one would be the same; and at
 * most {@link #MAX_CALLERS} are kept, those least likely to call again dropped first. A flood of
 * distinct callers can so give a dropped caller a fresh bucket, one extra burst, but cannot
 * exhaust memory.
 */
public final class RateLimitInterceptor implements ServerInterceptor {

  /** As grpc-java's client retry reads it: a decimal int of milliseconds. */
  static final Metadata.Key<String> RETRY_PUSHBACK_MS =
      Metadata.Key.of("grpc-retry-pushback-ms", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * Callers active within one period: far more than one replica serves, and some 26 MB at most
   * (measured: about 520 bytes a caller with a 36-character subject, key and cache entry included).
   */
  static final long MAX_CALLERS = 50_000;

  private static final Caller UNAUTHENTICATED = Caller.unauthenticatedAdministrator();

  private final RateLimit limit;
  private final TimeMeter time;
  private final Cache<BucketKey, Bucket> buckets;

  public RateLimitInterceptor(RateLimit limit) {
    this(limit, MAX_CALLERS, System::nanoTime);
  }

  /** @param nanoTime a monotonic clock in nanoseconds, shared by the buckets and their expiry */
  RateLimitInterceptor(RateLimit limit, long maxCallers, LongSupplier nanoTime) {
    this.limit = limit;
    this.time = new TimeMeter() {
      @Override
      public long currentTimeNanos() {
        return nanoTime.getAsLong();
      }

      @Override
      public boolean isWallClockBased() {
        return false;
      }
    };
    this.buckets = Caffeine.newBuilder()
        .expireAfterAccess(limit.period())
        .maximumSize(maxCallers)
        .ticker(nanoTime::getAsLong)
        .build();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    var probe = buckets.get(keyOf(call), key -> newBucket()).tryConsumeAndReturnRemaining(1);
    if (probe.isConsumed()) {
      return next.startCall(call, headers);
    }
    // Rounded up, so that a client retrying when told finds the token there.
    long waitMillis = Math.ceilDiv(probe.getNanosToWaitForRefill(), 1_000_000L);
    var pushback = new Metadata();
    pushback.put(RETRY_PUSHBACK_MS, Long.toString(Math.min(waitMillis, Integer.MAX_VALUE)));
    var refusal = StatusProto.toStatusRuntimeException(
        ErrorMapping.rateLimited(limit.description(), Duration.ofMillis(waitMillis)), pushback);
    call.close(refusal.getStatus(), refusal.getTrailers());
    return new ServerCall.Listener<>() {};
  }

  /** The callers that have a bucket now, after the cache has done its pending evictions. */
  long trackedCallers() {
    buckets.cleanUp();
    return buckets.estimatedSize();
  }

  private Bucket newBucket() {
    return Bucket.builder()
        .addLimit(bandwidth -> bandwidth.capacity(limit.calls()).refillGreedy(limit.calls(), limit.period()))
        .withCustomTimePrecision(time)
        .build();
  }

  private static BucketKey keyOf(ServerCall<?, ?> call) {
    return Callers.current()
        .filter(caller -> !caller.equals(UNAUTHENTICATED))
        .<BucketKey>map(caller -> new BucketKey.Subject(caller.subject()))
        .orElseGet(() -> new BucketKey.Peer(peerOf(call)));
  }

  /** The IP address without the port, which differs between a client's connections. */
  private static String peerOf(ServerCall<?, ?> call) {
    var address = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    return address instanceof InetSocketAddress inet && inet.getAddress() != null
        ? inet.getAddress().getHostAddress()
        : String.valueOf(address);
  }

  /** Whose bucket a call draws from; a subject and an address never share one, whatever they spell. */
  private sealed interface BucketKey {

    record Subject(String subject) implements BucketKey {}

    record Peer(String address) implements BucketKey {}
  }
}
