package dev.users.adapter.grpc;

import static java.util.stream.Collectors.joining;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.ResourceInfo;
import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import dev.users.application.access.AccessException;
import dev.users.application.access.NotAuthenticatedException;
import dev.users.application.access.PermissionDeniedException;
import dev.users.application.port.CallCancelledException;
import dev.users.application.port.StorageUnavailableException;
import dev.users.domain.DomainException;
import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.InvalidInputException;
import dev.users.domain.UserNotFoundException;
import dev.users.domain.VersionConflictException;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.function.UnaryOperator;

/**
 * The one translation of failures into gRPC statuses, shared by every RPC (through
 * {@link CallFailures}, which also logs) and by the per-item failures of ImportUsers. A pure
 * function: it logs nothing.
 *
 * <p>Domain errors carry messages written for the caller and pass on with google.rpc details.
 * Anything unexpected becomes INTERNAL with a generic message: its text may hold SQL, host names
 * or class names that are no business of clients.
 */
final class ErrorMapping {

  static final String ERROR_DOMAIN = "users.v1";
  static final String USER_RESOURCE_TYPE = "users.v1.User";
  static final String UNAVAILABLE_MESSAGE = "the service is temporarily unavailable; retry with backoff";
  static final String INTERNAL_MESSAGE = "internal error";
  /** Tells a rate limit from the other causes of RESOURCE_EXHAUSTED, such as a message too large. */
  static final String RATE_LIMITED_REASON = "RATE_LIMIT_EXCEEDED";

  /**
   * The one answer to every credential that is missing or refused: saying which check failed would
   * help whoever forges tokens more than whoever has a broken one (the server log says which).
   */
  static final String UNAUTHENTICATED_MESSAGE = "a valid bearer token is required";

  /**
   * Storage answers UNAVAILABLE within about a second (the pool's connection timeout), so asking
   * clients to wait as long before retrying keeps an outage from turning into a retry storm.
   */
  private static final com.google.protobuf.Duration RETRY_DELAY =
      com.google.protobuf.Duration.newBuilder().setSeconds(1).build();

  private ErrorMapping() {}

  /**
   * @param fieldPath maps a field named by the domain ({@code email}) to its path in the request
   *     ({@code user.email})
   */
  static Status toStatus(Throwable error, UnaryOperator<String> fieldPath) {
    return switch (error) {
      case DomainException e -> domainStatus(e, fieldPath);
      case AccessException e -> accessStatus(e);
      case StorageUnavailableException e -> unavailable();
      case CallCancelledException e -> Status.newBuilder().setMessage(e.getMessage())
          .setCode((e.deadlinePassed() ? Code.DEADLINE_EXCEEDED : Code.CANCELLED).getNumber()).build();
      case StatusRuntimeException e -> StatusProto.fromStatusAndTrailers(e.getStatus(), e.getTrailers());
      case StatusException e -> StatusProto.fromStatusAndTrailers(e.getStatus(), e.getTrailers());
      default -> unexpected();
    };
  }

  // No default branch: a new DomainException subtype does not compile until it is mapped here.
  private static Status domainStatus(DomainException error, UnaryOperator<String> fieldPath) {
    return switch (error) {
      case InvalidInputException e -> invalidArgument(e, fieldPath);
      case UserNotFoundException e -> status(Code.NOT_FOUND, e.getMessage(), ResourceInfo.newBuilder()
          .setResourceType(USER_RESOURCE_TYPE)
          .setResourceName(e.id().toString())
          .setDescription(e.getMessage())
          .build());
      case EmailAlreadyTakenException e ->
          status(Code.ALREADY_EXISTS, e.getMessage(), errorInfo("EMAIL_TAKEN", "email", e.email().toString()));
      case VersionConflictException e ->
          status(Code.ABORTED, e.getMessage(), errorInfo("ETAG_MISMATCH", "id", e.id().toString()));
    };
  }

  // No default branch, as above.
  private static Status accessStatus(AccessException error) {
    return switch (error) {
      case NotAuthenticatedException e -> Status.newBuilder()
          .setCode(Code.UNAUTHENTICATED.getNumber())
          .setMessage(UNAUTHENTICATED_MESSAGE)
          .build();
      case PermissionDeniedException e ->
          status(Code.PERMISSION_DENIED, e.getMessage(), errorInfo("PERMISSION_DENIED", "operation", e.operation()));
    };
  }

  private static Status invalidArgument(InvalidInputException error, UnaryOperator<String> fieldPath) {
    var badRequest = BadRequest.newBuilder();
    for (var violation : error.violations()) {
      badRequest.addFieldViolations(BadRequest.FieldViolation.newBuilder()
          .setField(fieldPath.apply(violation.field()))
          .setDescription(violation.description()));
    }
    // Rebuilt rather than taken from the exception so that the message names request paths too.
    var message = badRequest.getFieldViolationsList().stream()
        .map(violation -> violation.getField() + ": " + violation.getDescription())
        .collect(joining("; ", "invalid request: ", ""));
    return status(Code.INVALID_ARGUMENT, message, badRequest.build());
  }

  private static ErrorInfo errorInfo(String reason, String metadataKey, String metadataValue) {
    return ErrorInfo.newBuilder()
        .setReason(reason)
        .setDomain(ERROR_DOMAIN)
        .putMetadata(metadataKey, metadataValue)
        .build();
  }

  /**
   * Storage unreachable, or more calls than it can serve: nothing took effect, and the client
   * should retry after the delay.
   */
  static Status unavailable() {
    return status(Code.UNAVAILABLE, UNAVAILABLE_MESSAGE, RetryInfo.newBuilder().setRetryDelay(RETRY_DELAY).build());
  }

  /**
   * The caller has used up its rate limit: nothing took effect, and a retry after the delay, when
   * its next call is due, is served.
   *
   * @param limit the limit, as people read it ({@code 200 calls per second})
   */
  static Status rateLimited(String limit, Duration retryAfter) {
    var retryDelay = com.google.protobuf.Duration.newBuilder()
        .setSeconds(retryAfter.toSeconds())
        .setNanos(retryAfter.toNanosPart())
        .build();
    return Status.newBuilder()
        .setCode(Code.RESOURCE_EXHAUSTED.getNumber())
        .setMessage("rate limit exceeded: each caller may make " + limit + "; retry in "
            + retryAfter.toMillis() + " ms")
        .addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(retryDelay).build()))
        .addDetails(Any.pack(ErrorInfo.newBuilder()
            .setReason(RATE_LIMITED_REASON)
            .setDomain(ERROR_DOMAIN)
            .putMetadata("limit", limit)
            .build()))
        .build();
  }

  private static Status unexpected() {
    return Status.newBuilder().setCode(Code.INTERNAL.getNumber()).setMessage(INTERNAL_MESSAGE).build();
  }

  private static Status status(Code code, String message, Message detail) {
    return Status.newBuilder()
        .setCode(code.getNumber())
        .setMessage(message)
        .addDetails(Any.pack(detail))
        .build();
  }
}
