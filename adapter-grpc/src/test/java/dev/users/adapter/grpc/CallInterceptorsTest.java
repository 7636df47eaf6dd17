package dev.users.adapter.grpc;

import static dev.users.adapter.grpc.StatusDetails.failureOf;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.UserServiceGrpc;
import dev.users.application.access.Caller;
import dev.users.application.get.GetUserQuery;
import dev.users.domain.User;
import dev.users.domain.UserNotFoundException;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.MDC;

class CallInterceptorsTest {

  private static final Metadata.Key<String> REQUEST_ID =
      Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);
  private static final GetUserRequest GET_USER = GetUserRequest.newBuilder().setId(TestUsers.ID).build();

  @RegisterExtension
  final InProcessUserService service = new InProcessUserService();

  @RegisterExtension
  final LogCapture accessLog = LogCapture.of("access");

  @RegisterExtension
  final LogCapture errorLog = LogCapture.of(CallFailures.class);

  private final AtomicReference<Metadata> headers = new AtomicReference<>();
  private final AtomicReference<Metadata> trailers = new AtomicReference<>();
  private final AtomicReference<Optional<String>> requestIdSeen = new AtomicReference<>();
  private final AtomicReference<String> mdcSeen = new AtomicReference<>();

  @Test
  void echoesTheCallersRequestIdInTheHeadersAndGivesItToTheCallsCode() {
    service.onGet(this::userSeeingRequestId);

    stub("trace-42").getUser(GET_USER);

    assertThat(headers.get().get(REQUEST_ID)).isEqualTo("trace-42");
    assertThat(requestIdSeen.get()).contains("trace-42");
    assertThat(mdcSeen.get()).isEqualTo("trace-42");
  }

  @Test
  void generatesARequestIdWhenTheCallerSentNone() {
    service.onGet(this::userSeeingRequestId);

    stub(null).getUser(GET_USER);

    var generated = headers.get().get(REQUEST_ID);
    assertThat(UUID.fromString(generated)).hasToString(generated);
    assertThat(UUID.fromString(generated).version()).isEqualTo(4);
    assertThat(UUID.fromString(generated).variant()).isEqualTo(2);
    assertThat(requestIdSeen.get()).contains(generated);
  }

  @Test
  void generatedRequestIdsAreDistinctVersion4Uuids() {
    var ids = Stream.generate(RequestIdInterceptor::generate).limit(100_000).collect(Collectors.toSet());

    assertThat(ids).hasSize(100_000).allSatisfy(id -> {
      var uuid = UUID.fromString(id);
      assertThat(uuid).hasToString(id);
      assertThat(uuid.version()).isEqualTo(4);
      assertThat(uuid.variant()).isEqualTo(2);
    });
  }

  @ParameterizedTest
  @MethodSource("unusableRequestIds")
  void replacesARequestIdThatIsTooLongOrNotPrintable(String sent) {
    service.onGet(this::userSeeingRequestId);

    stub(sent).getUser(GET_USER);

    var used = headers.get().get(REQUEST_ID);
    assertThat(used).isNotEqualTo(sent);
    assertThat(UUID.fromString(used)).hasToString(used);
  }

  static Stream<String> unusableRequestIds() {
    return Stream.of("x".repeat(129), "two words");
  }

  @Test
  void returnsTheRequestIdInTheTrailersOfACallThatFailsBeforeAnyHeader() {
    service.onGet((caller, query) -> {
      throw new UserNotFoundException(query.id());
    });

    var failure = failureOf(() -> stub("trace-404").getUser(GET_USER));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(trailers.get().get(REQUEST_ID)).isEqualTo("trace-404");
  }

  @Test
  void writesOneAccessLineWithMethodStatusAndDurationUnderTheRequestId() throws InterruptedException {
    service.onGet((caller, query) -> {
      throw new UserNotFoundException(query.id());
    });

    failureOf(() -> stub("trace-7").getUser(GET_USER));

    var line = accessLog.next();
    assertThat(line.getLevel()).isEqualTo(Level.INFO);
    assertThat(line.getFormattedMessage()).matches("users\\.v1\\.UserService/GetUser NOT_FOUND \\d+ ms");
    assertThat(line.getMDCPropertyMap()).containsEntry("request_id", "trace-7");
  }

  @Test
  void givesTheAccessLineItsMethodStatusAndDurationAsFieldsForAStructuredFormat() throws InterruptedException {
    service.onGet((caller, query) -> {
      throw new UserNotFoundException(query.id());
    });

    failureOf(() -> stub("trace-8").getUser(GET_USER));

    var fields = accessLog.next().getKeyValuePairs().stream()
        .collect(Collectors.toMap(pair -> pair.key, pair -> pair.value));
    assertThat(fields).containsEntry("method", "users.v1.UserService/GetUser")
        .containsEntry("status_code", "NOT_FOUND")
        .hasEntrySatisfying("duration_ms", duration -> assertThat(duration).isInstanceOf(Long.class));
  }

  @Test
  void logsHealthChecksAtDebugSoThatProbesDoNotDrownTheCalls() throws InterruptedException {
    var health = new HealthStatusManager();
    service.alsoServing(health.getHealthService().bindService());

    var answer = HealthGrpc.newBlockingStub(service.channel()).check(HealthCheckRequest.getDefaultInstance());

    assertThat(answer.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    var line = accessLog.next();
    assertThat(line.getLevel()).isEqualTo(Level.DEBUG);
    assertThat(line.getFormattedMessage()).startsWith("grpc.health.v1.Health/Check OK ");
  }

  @Test
  void logsACallTheClientCancelledAsCancelled() throws InterruptedException {
    var listing = new CountDownLatch(1);
    service.onList((caller, query, each) -> {
      listing.countDown();
      Await.cancellationOf(Context.current());
      return false;
    });
    var call = service.channel().newCall(UserServiceGrpc.getListUsersMethod(), CallOptions.DEFAULT);
    call.start(new ClientCall.Listener<>() {}, withRequestId("trace-gone"));
    call.request(1);
    call.sendMessage(ListUsersRequest.getDefaultInstance());
    call.halfClose();

    assertThat(listing.await(10, TimeUnit.SECONDS)).isTrue();
    call.cancel("the client went away", null);

    var line = accessLog.next();
    assertThat(line.getFormattedMessage()).startsWith("users.v1.UserService/ListUsers CANCELLED ");
    assertThat(line.getMDCPropertyMap()).containsEntry("request_id", "trace-gone");
  }

  @Test
  void answersAnExceptionEscapingTheServiceWithAGenericInternalStatusAndLogsIt() throws InterruptedException {
    service.serving(() -> ServerServiceDefinition.builder(UserServiceGrpc.SERVICE_NAME)
        .addMethod(UserServiceGrpc.getGetUserMethod(), ServerCalls.asyncUnaryCall((request, responses) -> {
          throw new IllegalStateException("password=hunter2 rejected by db.internal");
        }))
        .build());

    var failure = failureOf(() -> stub("trace-500").getUser(GET_USER));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(failure.getStatus().getDescription()).isEqualTo("internal error");
    assertThat(trailers.get().get(REQUEST_ID)).isEqualTo("trace-500");
    var logged = errorLog.next();
    assertThat(logged.getLevel()).isEqualTo(Level.ERROR);
    assertThat(logged.getThrowableProxy().getMessage()).isEqualTo("password=hunter2 rejected by db.internal");
    assertThat(logged.getMDCPropertyMap()).containsEntry("request_id", "trace-500");
    assertThat(accessLog.next().getFormattedMessage()).contains("GetUser INTERNAL");
  }

  @Test
  void answersAGetUserCompletedLaterInAnotherThreadWithTheUser() throws InterruptedException {
    service.onGetAsync((caller, query) -> completedLater(later -> later.complete(TestUsers.aUser().build())));

    var user = stub("trace-later").getUser(GET_USER).getUser();

    assertThat(user.getId()).isEqualTo(TestUsers.ID);
    assertThat(headers.get().get(REQUEST_ID)).isEqualTo("trace-later");
    var line = accessLog.next();
    assertThat(line.getFormattedMessage()).startsWith("users.v1.UserService/GetUser OK ");
    assertThat(line.getMDCPropertyMap()).containsEntry("request_id", "trace-later");
  }

  @Test
  void answersAGetUserFailedLaterInAnotherThreadWithItsStatus() {
    service.onGetAsync((caller, query) -> completedLater(
        later -> later.completeExceptionally(new CompletionException(new UserNotFoundException(query.id())))));

    var failure = failureOf(() -> stub("trace-later-404").getUser(GET_USER));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(trailers.get().get(REQUEST_ID)).isEqualTo("trace-later-404");
  }

  @Test
  void logsAnUnexpectedFailureOfALaterGetUserWithTheCallsRequestIdFromTheThreadThatCompletedIt()
      throws InterruptedException {
    var completing = new AtomicReference<Thread>();
    service.onGetAsync((caller, query) -> completedLater(later -> {
      completing.set(Thread.currentThread());
      later.completeExceptionally(new IllegalStateException("connection reset by db.internal"));
    }));

    var failure = failureOf(() -> stub("trace-later-500").getUser(GET_USER));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(failure.getStatus().getDescription()).isEqualTo("internal error");
    var logged = errorLog.next();
    assertThat(logged.getThreadName()).isEqualTo(completing.get().getName());
    assertThat(logged.getMDCPropertyMap()).containsEntry("request_id", "trace-later-500");
    assertThat(MDC.getCopyOfContextMap()).as("the test thread's MDC is untouched").isNullOrEmpty();
  }

  /**
   * A stage that {@code completion} completes in a thread of its own once the service has
   * registered its answer on it, so that the answer runs in that thread, not in the call's.
   */
  private static CompletionStage<User> completedLater(
      Consumer<CompletableFuture<User>> completion) {
    var later = new CompletableFuture<User>();
    Thread.ofPlatform().name("storage-stand-in").daemon().start(() -> {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (later.getNumberOfDependents() == 0 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      completion.accept(later);
    });
    return later;
  }

  @Test
  void boundsACallSentWithoutDeadlineByTheServersDefault() throws InterruptedException {
    var deadlineSeen = new AtomicReference<Deadline>();
    var cancellationSeen = new CountDownLatch(1);
    service.withDefaultDeadline(Duration.ofMillis(200)).onGet((caller, query) -> {
      deadlineSeen.set(Context.current().getDeadline());
      Await.cancellationOf(Context.current());
      cancellationSeen.countDown();
      return TestUsers.aUser().build();
    });

    var failure = failureOf(() -> stub("trace-slow").getUser(GET_USER));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(trailers.get().get(REQUEST_ID)).isEqualTo("trace-slow");
    assertThat(deadlineSeen.get()).isNotNull();
    assertThat(cancellationSeen.await(10, TimeUnit.SECONDS)).as("the use case saw its context cancelled").isTrue();
    var line = accessLog.next();
    assertThat(line.getFormattedMessage()).startsWith("users.v1.UserService/GetUser DEADLINE_EXCEEDED ");
    assertThat(line.getMDCPropertyMap()).containsEntry("request_id", "trace-slow");
  }

  @Test
  void leavesADeadlineSentByTheClientInCharge() throws InterruptedException {
    var cancellationSeen = new CountDownLatch(1);
    service.withDefaultDeadline(Duration.ofHours(1)).onGet((caller, query) -> {
      Await.cancellationOf(Context.current());
      cancellationSeen.countDown();
      return TestUsers.aUser().build();
    });

    var failure = failureOf(() -> stub(null).withDeadlineAfter(200, TimeUnit.MILLISECONDS).getUser(GET_USER));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(cancellationSeen.await(10, TimeUnit.SECONDS)).as("the use case saw its context cancelled").isTrue();
  }

  @Test
  void thereIsNoRequestIdOutsideACall() {
    assertThat(RequestIds.current()).isEmpty();
  }

  private User userSeeingRequestId(Caller caller, GetUserQuery query) {
    requestIdSeen.set(RequestIds.current());
    mdcSeen.set(MDC.get("request_id"));
    return TestUsers.aUser().build();
  }

  private UserServiceGrpc.UserServiceBlockingStub stub(String requestId) {
    var stub = service.blockingStub().withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));
    return requestId == null ? stub : stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(withRequestId(requestId)));
  }

  private static Metadata withRequestId(String requestId) {
    var metadata = new Metadata();
    metadata.put(REQUEST_ID, requestId);
    return metadata;
  }
}
