package dev.users.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.ResourceInfo;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A call to the service failed. One subclass per failure a caller can act on, so callers
 * {@code catch} the case they handle instead of parsing messages; {@link Failed} holds the rest.
 * Every one carries the status code, the server's message and, when the server sent one, the
 * {@code x-request-id} to quote when reporting a problem.
 */
public abstract sealed class UsersClientException extends RuntimeException {

  private final Status.Code code;
  private final String description;
  private final String requestId;

  private UsersClientException(StatusRuntimeException cause) {
    super(cause.getStatus().getCode() + ": " + cause.getStatus().getDescription()
        + Optional.ofNullable(requestId(cause)).map(id -> " (request id " + id + ")").orElse(""), cause);
    this.code = cause.getStatus().getCode();
    this.description = Optional.ofNullable(cause.getStatus().getDescription()).orElse("");
    this.requestId = requestId(cause);
  }

  /** The gRPC status code of the failure. */
  public Status.Code code() {
    return code;
  }

  /** The server's message (or grpc-java's, for a failure on the client side). */
  public String description() {
    return description;
  }

  /** The {@code x-request-id} under which the server logged the call, when it answered. */
  public Optional<String> requestId() {
    return Optional.ofNullable(requestId);
  }

  /** INVALID_ARGUMENT: the request is invalid; one violation per invalid field, by request path. */
  public static final class InvalidArgument extends UsersClientException {
    private final List<BadRequest.FieldViolation> violations;

    private InvalidArgument(StatusRuntimeException cause, List<BadRequest.FieldViolation> violations) {
      super(cause);
      this.violations = List.copyOf(violations);
    }

    /** The invalid fields ({@code email}, {@code user.display_name}...) and why each is invalid. */
    public List<BadRequest.FieldViolation> violations() {
      return violations;
    }
  }

  /** ALREADY_EXISTS (reason EMAIL_TAKEN): another user has the email, ignoring case. */
  public static final class EmailTaken extends UsersClientException {
    private EmailTaken(StatusRuntimeException cause) {
      super(cause);
    }
  }

  /**
   * ABORTED (reason ETAG_MISMATCH): the user changed since the etag was read; read it again and
   * reapply the change. Also what a retried conditional write sees when its first attempt took
   * effect but its answer was lost.
   */
  public static final class EtagMismatch extends UsersClientException {
    private EtagMismatch(StatusRuntimeException cause) {
      super(cause);
    }
  }

  /** NOT_FOUND: no user has the id. */
  public static final class NotFound extends UsersClientException {
    private final String resourceName;

    private NotFound(StatusRuntimeException cause, String resourceName) {
      super(cause);
      this.resourceName = resourceName;
    }

    /** The id that was not found, as the server named it (empty when it did not). */
    public String resourceName() {
      return resourceName;
    }
  }

  /**
   * UNAVAILABLE after the client's own retries, when there were any: nothing took effect (for a
   * write that was not retried, it may have); try again after {@link #retryDelay()}.
   */
  public static final class Unavailable extends UsersClientException {
    private final Duration retryDelay;

    private Unavailable(StatusRuntimeException cause, Duration retryDelay) {
      super(cause);
      this.retryDelay = retryDelay;
    }

    /** How long the server asked callers to wait before trying again. */
    public Optional<Duration> retryDelay() {
      return Optional.ofNullable(retryDelay);
    }
  }

  /** UNAUTHENTICATED: no valid credentials, or the token was withheld from a plaintext connection. */
  public static final class Unauthenticated extends UsersClientException {
    private Unauthenticated(StatusRuntimeException cause) {
      super(cause);
    }
  }

  /** PERMISSION_DENIED: the credentials do not allow this call. */
  public static final class PermissionDenied extends UsersClientException {
    private PermissionDenied(StatusRuntimeException cause) {
      super(cause);
    }
  }

  /** RESOURCE_EXHAUSTED (reason RATE_LIMIT_EXCEEDED): the caller's rate limit is used up. */
  public static final class QuotaExceeded extends UsersClientException {
    private final Duration retryDelay;

    private QuotaExceeded(StatusRuntimeException cause, Duration retryDelay) {
      super(cause);
      this.retryDelay = retryDelay;
    }

    /** When the next call will be served. */
    public Optional<Duration> retryDelay() {
      return Optional.ofNullable(retryDelay);
    }
  }

  /** DEADLINE_EXCEEDED: the call's deadline passed; its work on the server was stopped. */
  public static final class DeadlineExceeded extends UsersClientException {
    private DeadlineExceeded(StatusRuntimeException cause) {
      super(cause);
    }
  }

  /** Any other failure: {@link #code()} and {@link #description()} say what it was. */
  public static final class Failed extends UsersClientException {
    private Failed(StatusRuntimeException cause) {
      super(cause);
    }
  }

  /** The typed exception for a failed call, read from its status and google.rpc details. */
  static UsersClientException from(StatusRuntimeException failure) {
    var status = StatusProto.fromThrowable(failure);
    var details = status == null ? List.<Any>of() : status.getDetailsList();
    var reason = detail(details, ErrorInfo.class).map(ErrorInfo::getReason).orElse("");
    var retryDelay = detail(details, RetryInfo.class)
        .map(info -> Duration.ofSeconds(info.getRetryDelay().getSeconds(), info.getRetryDelay().getNanos()))
        .orElse(null);
    return switch (failure.getStatus().getCode()) {
      case INVALID_ARGUMENT -> new InvalidArgument(failure,
          detail(details, BadRequest.class).map(BadRequest::getFieldViolationsList).orElse(List.of()));
      case ALREADY_EXISTS -> "EMAIL_TAKEN".equals(reason) ? new EmailTaken(failure) : new Failed(failure);
      case ABORTED -> "ETAG_MISMATCH".equals(reason) ? new EtagMismatch(failure) : new Failed(failure);
      case NOT_FOUND -> new NotFound(failure,
          detail(details, ResourceInfo.class).map(ResourceInfo::getResourceName).orElse(""));
      case UNAVAILABLE -> new Unavailable(failure, retryDelay);
      case UNAUTHENTICATED -> new Unauthenticated(failure);
      case PERMISSION_DENIED -> new PermissionDenied(failure);
      case RESOURCE_EXHAUSTED ->
          "RATE_LIMIT_EXCEEDED".equals(reason) ? new QuotaExceeded(failure, retryDelay) : new Failed(failure);
      case DEADLINE_EXCEEDED -> new DeadlineExceeded(failure);
      default -> new Failed(failure);
    };
  }

  /** The typed exception for a failure reported inside a response (an ImportUsers item). */
  static UsersClientException from(com.google.rpc.Status status) {
    return from(StatusProto.toStatusRuntimeException(status));
  }

  private static <T extends Message> Optional<T> detail(List<Any> details, Class<T> type) {
    for (var detail : details) {
      if (detail.is(type)) {
        try {
          return Optional.of(detail.unpack(type));
        } catch (InvalidProtocolBufferException e) {
          // A detail that claims the type but does not parse is no help to the caller: skip it.
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  private static String requestId(StatusRuntimeException failure) {
    return failure.getTrailers() == null ? null : failure.getTrailers().get(RequestIds.KEY);
  }
}
