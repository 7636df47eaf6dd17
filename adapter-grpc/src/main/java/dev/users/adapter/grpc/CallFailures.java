package dev.users.adapter.grpc;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way a call's failure becomes its answer, for every RPC, unary and streaming, and for
 * {@link UnexpectedErrorInterceptor}: mapped by {@link ErrorMapping}, and logged here and only
 * here, under the request id the MDC carries.
 *
 * <p>Logging follows the status, not the exception type, so a failure mapped later needs no change
 * here: INTERNAL is a bug and is logged with its stack trace; UNAVAILABLE is an outage or overload,
 * which the storage adapter logs once when it starts and ends, so per call it is DEBUG; UNAUTHENTICATED tells
 * the caller nothing more, so the log says which check failed (never the credentials); everything
 * else is the caller's to act on, and the access log records its status.
 */
final class CallFailures {

  private static final Logger log = LoggerFactory.getLogger(CallFailures.class);

  private CallFailures() {}

  /**
   * @param fieldPath maps a field named by the domain ({@code email}) to its path in the request
   *     ({@code user.email})
   * @return the status that ends the call, with its details
   */
  static StatusRuntimeException report(Throwable failure, UnaryOperator<String> fieldPath) {
    var status = ErrorMapping.toStatus(failure, fieldPath);
    switch (Status.fromCodeValue(status.getCode()).getCode()) {
      case INTERNAL -> log.error("unexpected failure, answered with INTERNAL", failure);
      case UNAVAILABLE -> log.debug("answered UNAVAILABLE: {}", failure.getMessage());
      case UNAUTHENTICATED -> log.info("authentication refused: {}", failure.getMessage());
      default -> { }
    }
    return StatusProto.toStatusRuntimeException(status);
  }

  /**
   * A request message that cannot be decoded: the caller's to fix, answered INVALID_ARGUMENT, and
   * logged in one line (no stack trace: the problem is in the bytes, not in this code).
   *
   * @param problem what protobuf says is wrong with the bytes
   */
  static StatusRuntimeException undecodable(String fullMethodName, String problem) {
    log.warn("undecodable request to {}: {}", fullMethodName, problem);
    return Status.INVALID_ARGUMENT
        .withDescription("the request message cannot be decoded: " + problem)
        .asRuntimeException(new Metadata());
  }
}
