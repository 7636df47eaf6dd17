package dev.users.bootstrap;

import com.google.rpc.ErrorInfo;
import com.google.rpc.Status;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.protobuf.StatusProto;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;

/**
 * The service's own counters, read from what the users API answers: users created, imported,
 * rejected (by reason) and deleted, and calls that found storage unavailable. Reading responses
 * and statuses rather than instrumenting the use cases keeps the core free of metrics.
 *
 * <p>Users created are counted as users.registered: the Prometheus exporter strips a {@code _created}
 * suffix, reserved there for a counter's creation time, so users.created would be scraped as
 * users_total.
 *
 * <p>Installed inside the in-flight limit, so an UNAVAILABLE it sees is storage's, not a refusal
 * of a call over that limit (which carries the same status and message).
 */
final class UserCounters implements ServerInterceptor {

  private static final AttributeKey<String> REASON = AttributeKey.stringKey("reason");
  /** The reason of the rejected import items past the first 1,000, whose failures the response omits. */
  static final String UNLISTED_REASON = "UNLISTED";

  private static final String CREATE = UserServiceGrpc.getCreateUserMethod().getFullMethodName();
  private static final String IMPORT = UserServiceGrpc.getImportUsersMethod().getFullMethodName();
  private static final String DELETE = UserServiceGrpc.getDeleteUserMethod().getFullMethodName();

  private final LongCounter created;
  private final LongCounter imported;
  private final LongCounter rejected;
  private final LongCounter deleted;
  private final LongCounter storageUnavailable;

  UserCounters(Meter meter) {
    created = meter.counterBuilder("users.registered")
        .setDescription("Users created, by CreateUser or ImportUsers").setUnit("{user}").build();
    imported = meter.counterBuilder("users.imported")
        .setDescription("Users created by ImportUsers").setUnit("{user}").build();
    rejected = meter.counterBuilder("users.rejected")
        .setDescription("CreateUser calls and ImportUsers items that created no user, by ErrorInfo reason or status code")
        .setUnit("{user}").build();
    deleted = meter.counterBuilder("users.deleted")
        .setDescription("Users deleted").setUnit("{user}").build();
    storageUnavailable = meter.counterBuilder("storage.unavailable")
        .setDescription("Users API calls answered UNAVAILABLE because storage could not be reached")
        .setUnit("{call}").build();
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
      ServerCallHandler<ReqT, RespT> next) {
    var method = call.getMethodDescriptor().getFullMethodName();
    return next.startCall(new SimpleForwardingServerCall<>(call) {
      @Override
      public void sendMessage(RespT message) {
        if (message instanceof ImportUsersResponse response) {
          countImport(response);
        }
        super.sendMessage(message);
      }

      @Override
      public void close(io.grpc.Status status, Metadata trailers) {
        countClose(method, status, trailers);
        super.close(status, trailers);
      }
    }, headers);
  }

  private void countImport(ImportUsersResponse response) {
    created.add(response.getCreatedCount());
    imported.add(response.getCreatedCount());
    for (var failure : response.getFailuresList()) {
      rejected.add(1, Attributes.of(REASON, reason(failure.getStatus())));
    }
    var unlisted = response.getRejectedCount() - response.getFailuresCount();
    if (unlisted > 0) {
      rejected.add(unlisted, Attributes.of(REASON, UNLISTED_REASON));
    }
  }

  private void countClose(String method, io.grpc.Status status, Metadata trailers) {
    if (status.isOk()) {
      if (method.equals(CREATE)) {
        created.add(1);
      } else if (method.equals(DELETE)) {
        deleted.add(1);
      }
      return;
    }
    if (status.getCode() == io.grpc.Status.Code.UNAVAILABLE) {
      storageUnavailable.add(1);
    }
    if (method.equals(CREATE)) {
      rejected.add(1, Attributes.of(REASON, reason(StatusProto.fromStatusAndTrailers(status, trailers))));
    }
  }

  /** The ErrorInfo reason when the status has one (EMAIL_TAKEN), else its code (INVALID_ARGUMENT). */
  private static String reason(Status status) {
    return status.getDetailsList().stream()
        .filter(detail -> detail.is(ErrorInfo.class))
        .findFirst()
        .map(UserCounters::errorInfoReason)
        .orElseGet(() -> io.grpc.Status.fromCodeValue(status.getCode()).getCode().name());
  }

  private static String errorInfoReason(com.google.protobuf.Any detail) {
    try {
      return detail.unpack(ErrorInfo.class).getReason();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      // Only this process writes the details, so an ErrorInfo that does not parse is a bug here.
      throw new IllegalStateException("unreadable ErrorInfo detail", e);
    }
  }
}
