package dev.users.adapter.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import com.google.rpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Reads the google.rpc details of a failed call. */
final class StatusDetails {

  private StatusDetails() {}

  /** The failure of a call that must fail. */
  static StatusRuntimeException failureOf(ThrowingCallable call) {
    var failure = catchThrowableOfType(StatusRuntimeException.class, call);
    assertThat(failure).as("the call failed with a status").isNotNull();
    return failure;
  }

  /** The fields named by the BadRequest detail, in order. */
  static List<String> badRequestFields(Throwable failure) {
    return badRequestFields(of(failure));
  }

  static List<String> badRequestFields(Status status) {
    return detail(status, BadRequest.class).getFieldViolationsList().stream()
        .map(BadRequest.FieldViolation::getField)
        .toList();
  }

  static Status of(Throwable failure) {
    var status = StatusProto.fromThrowable(failure);
    assertThat(status).as("google.rpc.Status in the trailers of %s", failure).isNotNull();
    return status;
  }

  static <T extends Message> T detail(Throwable failure, Class<T> type) {
    return detail(of(failure), type);
  }

  static <T extends Message> T detail(Status status, Class<T> type) {
    var matching = status.getDetailsList().stream().filter(any -> any.is(type)).toList();
    assertThat(matching).as("%s details of %s", type.getSimpleName(), status).hasSize(1);
    return unpack(matching.getFirst(), type);
  }

  private static <T extends Message> T unpack(Any any, Class<T> type) {
    try {
      return any.unpack(type);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("malformed " + type.getSimpleName(), e);
    }
  }
}
