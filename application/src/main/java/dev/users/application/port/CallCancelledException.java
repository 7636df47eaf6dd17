package dev.users.application.port;

/**
 * Work was refused or stopped because the call it served is over: the caller cancelled it, or its
 * deadline passed ({@link #deadlinePassed()}). Nobody awaits the result; whatever was stopped did
 * not take effect unless it had already completed.
 */
public final class CallCancelledException extends RuntimeException {

  private final boolean deadlinePassed;

  public CallCancelledException(boolean deadlinePassed, Throwable cause) {
    super(deadlinePassed ? "the call's deadline passed" : "the call was cancelled", cause);
    this.deadlinePassed = deadlinePassed;
  }

  /** True when the call ended at its deadline, false when the caller cancelled it. */
  public boolean deadlinePassed() {
    return deadlinePassed;
  }
}
