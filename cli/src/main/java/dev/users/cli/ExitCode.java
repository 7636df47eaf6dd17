package dev.users.cli;

import io.grpc.Status;

/**
 * The exit status of {@code users}: one per class of failure a script can act on, so that a
 * script tests the code instead of parsing messages.
 */
enum ExitCode {
  OK(0, "success"),
  OTHER(1, "any other failure (internal error, unreadable file)"),
  USAGE(2, "bad command line"),
  INVALID(3, "invalid argument; import: some rows not imported"),
  NOT_FOUND(4, "not found"),
  CONFLICT(5, "conflict: email taken, etag mismatch (ALREADY_EXISTS, ABORTED)"),
  DENIED(6, "not allowed: UNAUTHENTICATED, PERMISSION_DENIED"),
  RETRY_LATER(7, "try again later: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED");

  final int code;
  final String meaning;

  ExitCode(int code, String meaning) {
    this.code = code;
    this.meaning = meaning;
  }

  static ExitCode of(Status.Code status) {
    return switch (status) {
      case OK -> OK;
      case INVALID_ARGUMENT, OUT_OF_RANGE -> INVALID;
      case NOT_FOUND -> NOT_FOUND;
      case ALREADY_EXISTS, ABORTED, FAILED_PRECONDITION -> CONFLICT;
      case UNAUTHENTICATED, PERMISSION_DENIED -> DENIED;
      case UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED -> RETRY_LATER;
      case CANCELLED, UNKNOWN, UNIMPLEMENTED, INTERNAL, DATA_LOSS -> OTHER;
    };
  }
}
