package dev.users.adapter.grpc;

import static dev.users.adapter.grpc.StatusDetails.failureOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.UserServiceGrpc;
import dev.users.application.access.Caller;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RateLimitInterceptorTest {

  private static final GetUserRequest GET_USER = GetUserRequest.newBuilder().setId(TestUsers.ID).build();
  private static final RateLimit THREE_PER_SECOND = new RateLimit(3, Duration.ofSeconds(1));
  private static final int MAX_CALLERS = 5;

  private static final Metadata.Key<String> SUBJECT = header("test-subject");
  private static final Metadata.Key<String> ANONYMOUS = header("test-anonymous");
  private static final Metadata.Key<String> PEER = header("test-peer");

  /** The limiter's clock, moved by the tests only. */
  private final AtomicLong nanos = new AtomicLong(TimeUnit.HOURS.toNanos(1));
  private final RateLimitInterceptor limiter = new RateLimitInterceptor(THREE_PER_SECOND, MAX_CALLERS, nanos::get);

  @RegisterExtension
  final InProcessUserService service = new InProcessUserService()
      .onGet((caller, query) -> TestUsers.aUser().build())
      .withInnermost(limiter)
      .aroundUsersApi(new CallerFromHeaders())
      .authenticating(KEEPING_THE_CALLER_FROM_HEADERS);

  @Test
  void aBurstBeyondTheLimitIsRefusedResourceExhaustedWithRetryInfoAndThePushbackTrailer() {
    var alice = as("alice");
    for (int call = 0; call < 3; call++) {
      assertThat(alice.getUser(GET_USER).getUser().getId()).isEqualTo(TestUsers.ID);
    }

    var refused = failureOf(() -> alice.getUser(GET_USER));

    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(refused.getStatus().getDescription())
        .isEqualTo("rate limit exceeded: each caller may make 3 calls per second; retry in 334 ms");
    // A third of a second until the next token, rounded up to the millisecond.
    var retryDelay = StatusDetails.detail(refused, RetryInfo.class).getRetryDelay();
    assertThat(retryDelay.getSeconds()).isZero();
    assertThat(retryDelay.getNanos()).isEqualTo(334_000_000);
    assertThat(refused.getTrailers().get(RateLimitInterceptor.RETRY_PUSHBACK_MS)).isEqualTo("334");
    var errorInfo = StatusDetails.detail(refused, ErrorInfo.class);
    assertThat(errorInfo.getReason()).isEqualTo("RATE_LIMIT_EXCEEDED");
    assertThat(errorInfo.getDomain()).isEqualTo("users.v1");
    assertThat(errorInfo.getMetadataMap()).containsEntry("limit", "3 calls per second");
  }

  @Test
  void aCallPassesAgainOnceTheAdvisedTimeHasPassed() {
    var alice = as("alice");
    exhaust(alice);
    long advisedMs = Long.parseLong(failureOf(() -> alice.getUser(GET_USER)).getTrailers()
        .get(RateLimitInterceptor.RETRY_PUSHBACK_MS));

    nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(advisedMs - 1));
    assertThat(failureOf(() -> alice.getUser(GET_USER)).getStatus().getCode())
        .as("a millisecond before the advised time").isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));

    assertThat(alice.getUser(GET_USER).getUser().getId()).isEqualTo(TestUsers.ID);
    assertThat(failureOf(() -> alice.getUser(GET_USER)).getStatus().getCode())
        .as("one token came back, not the whole burst").isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
  }

  @Test
  void eachSubjectHasABucketOfItsOwn() {
    exhaust(as("alice"));

    for (int call = 0; call < 3; call++) {
      assertThat(as("bob").getUser(GET_USER).getUser().getId()).isEqualTo(TestUsers.ID);
    }
    assertThat(failureOf(() -> as("alice").getUser(GET_USER)).getStatus().getCode())
        .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
  }

  @Test
  void callsWithoutACallerShareTheBucketOfTheirPeersAddressWhateverThePort() {
    exhaust(fromPeer("192.0.2.1", 40_001));

    assertThat(failureOf(() -> fromPeer("192.0.2.1", 40_002).getUser(GET_USER)).getStatus().getCode())
        .as("another connection from the same address").isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(fromPeer("192.0.2.2", 40_001).getUser(GET_USER).getUser().getId()).isEqualTo(TestUsers.ID);
  }

  @Test
  void theUnauthenticatedAdministratorIsLimitedPerPeerAddressNotAsOneSharedSubject() {
    exhaust(anonymousFrom("192.0.2.1"));

    assertThat(anonymousFrom("192.0.2.2").getUser(GET_USER).getUser().getId()).isEqualTo(TestUsers.ID);
    assertThat(as(Caller.unauthenticatedAdministrator().subject()).getUser(GET_USER).getUser().getId())
        .as("an authenticated subject that happens to be called so has a bucket of its own")
        .isEqualTo(TestUsers.ID);
  }

  @Test
  void aStreamingCallTakesATokenLikeAUnaryOne() {
    service.onList((caller, query, each) -> {
      each.accept(TestUsers.aUser().build());
      return false;
    });
    var alice = as("alice");
    for (int call = 0; call < 3; call++) {
      assertThat(alice.listUsers(ListUsersRequest.getDefaultInstance()).next().getUsersList()).hasSize(1);
    }

    var refused = failureOf(() -> alice.listUsers(ListUsersRequest.getDefaultInstance()).next());

    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
  }

  @Test
  void aBucketIdleForAWholePeriodIsDroppedAsItIsFullAgain() {
    as("alice").getUser(GET_USER);
    as("bob").getUser(GET_USER);
    assertThat(limiter.trackedCallers()).isEqualTo(2);

    nanos.addAndGet(THREE_PER_SECOND.period().toNanos() / 2);
    as("alice").getUser(GET_USER);
    nanos.addAndGet(THREE_PER_SECOND.period().toNanos() / 2 + 1);

    assertThat(limiter.trackedCallers()).as("alice, used half a period ago").isEqualTo(1);
    nanos.addAndGet(THREE_PER_SECOND.period().toNanos() / 2);
    assertThat(limiter.trackedCallers()).isZero();
  }

  @Test
  void aFloodOfDistinctCallersKeepsNoMoreBucketsThanTheCap() {
    for (int caller = 0; caller < 20 * MAX_CALLERS; caller++) {
      as("subject-" + caller).getUser(GET_USER);
    }

    long tracked = limiter.trackedCallers();
    System.out.printf("%d distinct callers, cap %d: %d buckets kept%n", 20 * MAX_CALLERS, MAX_CALLERS, tracked);
    assertThat(tracked).isLessThanOrEqualTo(MAX_CALLERS);
  }

  /** The limit as the server attaches it: to the users API, inside authentication. */
  @Nested
  class AsTheUsersApiAttachesIt {

    private static final String OTHER_SERVICE = "test.Other";

    @RegisterExtension
    final InProcessUserService limited = new InProcessUserService()
        .onGet((caller, query) -> TestUsers.aUser().build())
        .withRateLimit(new RateLimit(1, Duration.ofMinutes(1)))
        .aroundUsersApi(new CallerFromHeaders())
        .authenticating(KEEPING_THE_CALLER_FROM_HEADERS)
        .alsoServing(ServerServiceDefinition.builder(OTHER_SERVICE)
            .addMethod(otherMethod(), ServerCalls.asyncUnaryCall((request, response) -> {
              response.onNext(request);
              response.onCompleted();
            }))
            .build());

    @Test
    void limitsEachCallerThatAuthenticationFound() {
      var alice = stub(limited).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(header(SUBJECT, "alice")));
      var bob = stub(limited).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(header(SUBJECT, "bob")));
      alice.getUser(GET_USER);

      var refused = failureOf(() -> alice.getUser(GET_USER));

      assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(Integer.parseInt(refused.getTrailers().get(RateLimitInterceptor.RETRY_PUSHBACK_MS)))
          .as("a minute, less what the calls took").isBetween(50_000, 60_000);
      assertThat(bob.getUser(GET_USER).getUser().getId()).isEqualTo(TestUsers.ID);
    }

    @Test
    void leavesOtherServicesAlone() {
      for (int call = 0; call < 5; call++) {
        var echoed = ClientCalls.blockingUnaryCall(limited.channel(), otherMethod(), CallOptions.DEFAULT, GET_USER);
        assertThat(echoed).isEqualTo(GET_USER);
      }
    }

    private static MethodDescriptor<GetUserRequest, GetUserRequest> otherMethod() {
      return MethodDescriptor.<GetUserRequest, GetUserRequest>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(OTHER_SERVICE + "/Echo")
          .setRequestMarshaller(UserServiceGrpc.getGetUserMethod().getRequestMarshaller())
          .setResponseMarshaller(UserServiceGrpc.getGetUserMethod().getRequestMarshaller())
          .build();
    }
  }

  private void exhaust(UserServiceGrpc.UserServiceBlockingStub caller) {
    for (int call = 0; call < 3; call++) {
      caller.getUser(GET_USER);
    }
    assertThat(failureOf(() -> caller.getUser(GET_USER)).getStatus().getCode())
        .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
  }

  private UserServiceGrpc.UserServiceBlockingStub as(String subject) {
    return stub(service).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(header(SUBJECT, subject)));
  }

  private UserServiceGrpc.UserServiceBlockingStub fromPeer(String address, int port) {
    var headers = header(PEER, address + ":" + port);
    return stub(service).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private UserServiceGrpc.UserServiceBlockingStub anonymousFrom(String address) {
    var headers = header(PEER, address + ":40000");
    headers.put(ANONYMOUS, "true");
    return stub(service).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private static UserServiceGrpc.UserServiceBlockingStub stub(InProcessUserService service) {
    return service.blockingStub().withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static Metadata.Key<String> header(String name) {
    return Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER);
  }

  private static Metadata header(Metadata.Key<String> key, String value) {
    var headers = new Metadata();
    headers.put(key, value);
    return headers;
  }

  /**
   * Stands in for authentication and for the transport: the caller and the peer's address are
   * those the test's headers name.
   */
  /**
   * The users API's own authentication step, which here keeps the caller {@link CallerFromHeaders}
   * found outside the API, as a real step would establish one from a token.
   */
  private static final AuthenticationInterceptor KEEPING_THE_CALLER_FROM_HEADERS =
      AuthenticationInterceptor.establishingCallersBy(
          headers -> Callers.current().orElse(Caller.unauthenticatedAdministrator()));

  private static final class CallerFromHeaders implements ServerInterceptor {

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      var context = Context.current();
      if (headers.containsKey(SUBJECT)) {
        context = context.withValue(Callers.KEY, new Caller(headers.get(SUBJECT), Set.of(Caller.READ)));
      } else if (headers.containsKey(ANONYMOUS)) {
        context = context.withValue(Callers.KEY, Caller.unauthenticatedAdministrator());
      }
      var peer = headers.get(PEER);
      var served = peer == null ? call : new SimpleForwardingServerCall<>(call) {
        @Override
        public Attributes getAttributes() {
          return super.getAttributes().toBuilder().set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, address(peer)).build();
        }
      };
      return Contexts.interceptCall(context, served, headers, next);
    }

    private static InetSocketAddress address(String hostAndPort) {
      var separator = hostAndPort.lastIndexOf(':');
      try {
        return new InetSocketAddress(InetAddress.getByName(hostAndPort.substring(0, separator)),
            Integer.parseInt(hostAndPort.substring(separator + 1)));
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException(e);
      }
    }
  }
}
