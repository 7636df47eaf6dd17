package dev.users.application.port;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The deadline and the cancellation of the call that a piece of work serves, so that outbound
 * adapters stop working for a caller who no longer waits: a statement is bounded by the time the
 * call has left, and cancelled when the call ends early.
 *
 * <p>The inbound adapter that owns a call creates its scope ({@link #withDeadline}, {@link
 * #withoutDeadline}), binds it to the thread for the length of each callback of the call ({@link
 * #run}, {@link #call}), and ends it with {@link #cancel()} when the caller goes away or {@link
 * #expire()} when the deadline passes. Code below reads it with {@link #current()}; outside any
 * call, that is a scope with no deadline that is never cancelled.
 *
 * <p>A scope ends once: the first of {@code cancel()} and {@code expire()} decides why, later calls
 * change nothing. Every method is safe to call from any thread.
 */
public final class CallScope {

  private static final ThreadLocal<CallScope> CURRENT = new ThreadLocal<>();

  /** What {@link #current()} is outside a call; {@link #end} refuses it. */
  private static final CallScope OUTSIDE_ANY_CALL = new CallScope(false, 0);

  private enum State { ACTIVE, CANCELLED, EXPIRED }

  private final boolean hasDeadline;
  /** In {@link System#nanoTime()}'s terms; meaningless without {@link #hasDeadline}. */
  private final long deadlineNanos;
  private final Set<Registration> actions = new LinkedHashSet<>();
  private volatile State state = State.ACTIVE;

  private CallScope(boolean hasDeadline, long deadlineNanos) {
    this.hasDeadline = hasDeadline;
    this.deadlineNanos = deadlineNanos;
  }

  /** A scope for a call that has {@code remaining} left before its deadline. */
  public static CallScope withDeadline(Duration remaining) {
    return new CallScope(true, System.nanoTime() + remaining.toNanos());
  }

  /** A scope for a call that has no deadline; it can still be cancelled. */
  public static CallScope withoutDeadline() {
    return new CallScope(false, 0);
  }

  /** The scope bound to this thread, or one with no deadline that is never cancelled. */
  public static CallScope current() {
    var bound = CURRENT.get();
    return bound == null ? OUTSIDE_ANY_CALL : bound;
  }

  /**
   * The time left until the deadline, zero once it passed; empty when the call has no deadline.
   */
  public Optional<Duration> timeRemaining() {
    if (!hasDeadline) {
      return Optional.empty();
    }
    return Optional.of(Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime())));
  }

  /** Whether the call is over: cancelled, or past its deadline. */
  public boolean isCancelled() {
    return state != State.ACTIVE;
  }

  /**
   * Refuses work for a call that is over.
   *
   * @throws CallCancelledException when the call was cancelled or its deadline passed
   */
  public void throwIfCancelled() {
    if (isCancelled()) {
      throw cancellation(null);
    }
  }

  /**
   * The failure that reports why this call is over, for an adapter whose work was stopped by it
   * (a cancelled statement, say).
   *
   * @param cause the failure the stopped work ended with, or null
   * @throws IllegalStateException when the call is not over
   */
  public CallCancelledException cancellation(Throwable cause) {
    return switch (state) {
      case ACTIVE -> throw new IllegalStateException("the call is not cancelled");
      case CANCELLED -> new CallCancelledException(false, cause);
      case EXPIRED -> new CallCancelledException(true, cause);
    };
  }

  /**
   * Runs {@code action} when the call ends, at once (in this thread) if it already has. Actions run
   * in the thread that ends the call, which may be a transport or timer thread: they must be
   * quick, and hand anything blocking to a thread of their own.
   *
   * @return removes the action when the work it guards is done, so that a call ending later does
   *     not touch what the work has released
   */
  public Registration onCancel(Runnable action) {
    var registration = new Registration(this, action);
    synchronized (actions) {
      if (!isCancelled()) {
        actions.add(registration);
        return registration;
      }
    }
    action.run();
    return registration;
  }

  /** Ends the call because the caller went away: its work should stop. */
  public void cancel() {
    end(State.CANCELLED);
  }

  /** Ends the call because its deadline passed: its work should stop. */
  public void expire() {
    end(State.EXPIRED);
  }

  /** Runs {@code work} with this scope bound to the thread, restoring the one found before. */
  public void run(Runnable work) {
    call(() -> {
      work.run();
      return null;
    });
  }

  /** Calls {@code work} with this scope bound to the thread, restoring the one found before. */
  public <T> T call(Supplier<T> work) {
    var outer = CURRENT.get();
    CURRENT.set(this);
    try {
      return work.get();
    } finally {
      if (outer == null) {
        CURRENT.remove();
      } else {
        CURRENT.set(outer);
      }
    }
  }

  /**
   * Runs every action even if one fails, then rethrows the first failure with the others
   * suppressed: a failing action must not leave the others' resources held.
   */
  private void end(State reason) {
    if (this == OUTSIDE_ANY_CALL) {
      throw new IllegalStateException("only the scope of a call can be ended");
    }
    List<Registration> toRun;
    synchronized (actions) {
      if (isCancelled()) {
        return;
      }
      state = reason;
      toRun = new ArrayList<>(actions);
      actions.clear();
    }
    RuntimeException failure = null;
    for (var registration : toRun) {
      try {
        registration.action.run();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** An action registered with {@link #onCancel}; identity is what tells two of them apart. */
  public static final class Registration {

    private final CallScope scope;
    private final Runnable action;

    private Registration(CallScope scope, Runnable action) {
      this.scope = scope;
      this.action = action;
    }

    /** Forgets the action; it will not run if it has not run already. Safe to call twice. */
    public void remove() {
      synchronized (scope.actions) {
        scope.actions.remove(this);
      }
    }
  }
}
