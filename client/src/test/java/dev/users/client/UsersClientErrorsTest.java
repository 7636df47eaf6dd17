package dev.users.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.ResourceInfo;
import com.google.rpc.RetryInfo;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each status the server sends becomes the exception a caller catches, with its details and request id. */
class UsersClientErrorsTest {

  private static final String REQUEST_ID = "req-42";

  private final FakeUserService fake = new FakeUserService(
      IntStream.rangeClosed(1, 12).mapToObj(FakeUserService::user).toList());
  private final InProcessService service = new InProcessService(fake, new RequestIdLikeTheServer());
  private final UsersClient client = service.client();

  @AfterEach
  void stop() {
    client.close();
    service.close();
  }

  static Stream<Arguments> statuses() {
    return Stream.of(
        Arguments.of(status(Code.INVALID_ARGUMENT, violations("email")), UsersClientException.InvalidArgument.class),
        Arguments.of(status(Code.ALREADY_EXISTS, reason("EMAIL_TAKEN")), UsersClientException.EmailTaken.class),
        Arguments.of(status(Code.ABORTED, reason("ETAG_MISMATCH")), UsersClientException.EtagMismatch.class),
        Arguments.of(status(Code.NOT_FOUND, resource("u1")), UsersClientException.NotFound.class),
        Arguments.of(status(Code.UNAVAILABLE, retryIn(1)), UsersClientException.Unavailable.class),
        Arguments.of(status(Code.UNAUTHENTICATED), UsersClientException.Unauthenticated.class),
        Arguments.of(status(Code.PERMISSION_DENIED), UsersClientException.PermissionDenied.class),
        Arguments.of(status(Code.RESOURCE_EXHAUSTED, retryIn(2), reason("RATE_LIMIT_EXCEEDED")),
            UsersClientException.QuotaExceeded.class),
        Arguments.of(status(Code.DEADLINE_EXCEEDED), UsersClientException.DeadlineExceeded.class),
        Arguments.of(status(Code.RESOURCE_EXHAUSTED), UsersClientException.Failed.class),
        Arguments.of(status(Code.ALREADY_EXISTS), UsersClientException.Failed.class),
        Arguments.of(status(Code.INTERNAL), UsersClientException.Failed.class));
  }

  @ParameterizedTest
  @MethodSource("statuses")
  void eachStatusBecomesItsTypedExceptionWithCodeMessageAndRequestId(
      com.google.rpc.Status status, Class<? extends UsersClientException> expected) {
    fail(status);

    var error = catchThrowableOfType(expected, () -> client.getUser("u1"));

    assertThat(error.code().value()).isEqualTo(status.getCode());
    assertThat(error.description()).isEqualTo(status.getMessage());
    assertThat(error.requestId()).contains(REQUEST_ID);
    assertThat(error).hasMessageContaining(status.getMessage()).hasMessageContaining(REQUEST_ID);
  }

  @Test
  void invalidArgumentListsEveryFieldViolation() {
    fail(status(Code.INVALID_ARGUMENT, violations("email", "display_name")));

    var error = catchThrowableOfType(UsersClientException.InvalidArgument.class, () -> client.createUser("x", ""));

    assertThat(error.violations()).extracting(BadRequest.FieldViolation::getField).containsExactly("email", "display_name");
  }

  @Test
  void notFoundNamesTheMissingUser() {
    fail(status(Code.NOT_FOUND, resource("0190a000-0000-7000-8000-000000000009")));

    var error = catchThrowableOfType(UsersClientException.NotFound.class, () -> client.getUser("u1"));

    assertThat(error.resourceName()).isEqualTo("0190a000-0000-7000-8000-000000000009");
  }

  @Test
  void unavailableAndQuotaExceededCarryTheServersRetryDelay() {
    fail(status(Code.UNAVAILABLE, retryIn(1)));
    var unavailable = catchThrowableOfType(UsersClientException.Unavailable.class, () -> client.getUser("u1"));
    fail(status(Code.RESOURCE_EXHAUSTED, retryIn(2), reason("RATE_LIMIT_EXCEEDED")));
    var quota = catchThrowableOfType(UsersClientException.QuotaExceeded.class, () -> client.getUser("u1"));

    assertThat(unavailable.retryDelay()).contains(Duration.ofSeconds(1));
    assertThat(quota.retryDelay()).contains(Duration.ofSeconds(2));
  }

  @Test
  void theRequestIdOfAResponseThatStartedComesFromItsHeaders() {
    fake.failNext("ListUsers", 1, () -> Status.INTERNAL.withDescription("internal error").asRuntimeException());

    var users = client.listUsers();

    var error = catchThrowableOfType(UsersClientException.Failed.class, users::toList);
    assertThat(error.code()).isEqualTo(Status.Code.INTERNAL);
    assertThat(error.requestId()).contains(REQUEST_ID);
  }

  @Test
  void aCallDeadlineThatPassesOnTheClientIsDeadlineExceeded() {
    var impatient = client.withDeadline(Duration.ofMillis(1));
    fake.failNext("GetUser", 1, () -> {
      sleep(200);
      return Status.INTERNAL.asRuntimeException();
    });

    assertThatThrownBy(() -> impatient.getUser("u1"))
        .isInstanceOfSatisfying(UsersClientException.DeadlineExceeded.class,
            error -> assertThat(error.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
  }

  private void fail(com.google.rpc.Status status) {
    // Four times: UNAVAILABLE is retried; the other statuses use up one.
    fake.failNext("GetUser", 4, () -> StatusProto.toStatusRuntimeException(status));
    fake.failNext("CreateUser", 1, () -> StatusProto.toStatusRuntimeException(status));
  }

  private static com.google.rpc.Status status(Code code, Message... details) {
    var status = com.google.rpc.Status.newBuilder().setCode(code.getNumber()).setMessage("the server says " + code);
    for (var detail : details) {
      status.addDetails(Any.pack(detail));
    }
    return status.build();
  }

  private static BadRequest violations(String... fields) {
    var badRequest = BadRequest.newBuilder();
    for (var field : fields) {
      badRequest.addFieldViolations(BadRequest.FieldViolation.newBuilder().setField(field).setDescription("is invalid"));
    }
    return badRequest.build();
  }

  private static ErrorInfo reason(String reason) {
    return ErrorInfo.newBuilder().setReason(reason).setDomain("users.v1").build();
  }

  private static ResourceInfo resource(String id) {
    return ResourceInfo.newBuilder().setResourceType("users.v1.User").setResourceName(id).build();
  }

  private static RetryInfo retryIn(long seconds) {
    return RetryInfo.newBuilder().setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(seconds)).build();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** As the real server does: the request id in the response headers, or in the trailers when none were sent. */
  private static final class RequestIdLikeTheServer implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      return next.startCall(new SimpleForwardingServerCall<>(call) {
        private boolean headersSent;

        @Override
        public void sendHeaders(Metadata responseHeaders) {
          responseHeaders.put(RequestIds.KEY, REQUEST_ID);
          headersSent = true;
          super.sendHeaders(responseHeaders);
        }

        @Override
        public void close(Status status, Metadata trailers) {
          if (!headersSent) {
            trailers.put(RequestIds.KEY, REQUEST_ID);
          }
          super.close(status, trailers);
        }
      }, headers);
    }
  }
}
