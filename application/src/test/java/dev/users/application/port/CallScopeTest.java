package dev.users.application.port;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CallScopeTest {

  @Test
  void outsideAnyCallTheScopeHasNoDeadlineAndIsNeverCancelled() {
    var scope = CallScope.current();

    assertThat(scope.timeRemaining()).isEmpty();
    assertThat(scope.isCancelled()).isFalse();
    scope.throwIfCancelled();
    assertThatThrownBy(scope::cancel).isInstanceOf(IllegalStateException.class);
    assertThat(CallScope.current().isCancelled()).isFalse();
  }

  @Test
  void isCurrentWhileItsWorkRunsAndTheOuterScopeComesBackAfter() {
    var outer = CallScope.withoutDeadline();
    var inner = CallScope.withoutDeadline();
    var seen = new ArrayList<CallScope>();

    outer.run(() -> {
      seen.add(CallScope.current());
      inner.run(() -> seen.add(CallScope.current()));
      seen.add(CallScope.current());
    });

    assertThat(seen).containsExactly(outer, inner, outer);
    assertThat(CallScope.current()).isNotIn(outer, inner);
  }

  @Test
  void isUnboundEvenWhenItsWorkFails() {
    var scope = CallScope.withoutDeadline();

    assertThatThrownBy(() -> scope.run(() -> {
      throw new IllegalArgumentException("failed");
    })).hasMessage("failed");

    assertThat(CallScope.current()).isNotSameAs(scope);
  }

  @Test
  void countsTheTimeRemainingDownToZero() throws InterruptedException {
    var scope = CallScope.withDeadline(Duration.ofMillis(50));

    assertThat(scope.timeRemaining()).hasValueSatisfying(remaining ->
        assertThat(remaining).isPositive().isLessThanOrEqualTo(Duration.ofMillis(50)));
    Thread.sleep(60);
    assertThat(scope.timeRemaining()).contains(Duration.ZERO);
  }

  @Test
  void runsTheCancelActionsOnceWhenTheCallerCancels() {
    var scope = CallScope.withoutDeadline();
    var runs = new AtomicInteger();
    scope.onCancel(runs::incrementAndGet);

    scope.cancel();
    scope.cancel();
    scope.expire();

    assertThat(runs).hasValue(1);
    assertThat(scope.isCancelled()).isTrue();
    assertThatThrownBy(scope::throwIfCancelled)
        .isInstanceOfSatisfying(CallCancelledException.class, e -> assertThat(e.deadlinePassed()).isFalse())
        .hasMessage("the call was cancelled");
  }

  @Test
  void reportsAnExpiredCallAsPastItsDeadline() {
    var scope = CallScope.withDeadline(Duration.ofMinutes(1));

    scope.expire();
    scope.cancel();

    assertThatThrownBy(scope::throwIfCancelled)
        .isInstanceOfSatisfying(CallCancelledException.class, e -> assertThat(e.deadlinePassed()).isTrue())
        .hasMessage("the call's deadline passed");
  }

  @Test
  void anActionRegisteredAfterTheEndRunsAtOnce() {
    var scope = CallScope.withoutDeadline();
    scope.cancel();
    var runs = new AtomicInteger();

    scope.onCancel(runs::incrementAndGet).remove();

    assertThat(runs).hasValue(1);
  }

  @Test
  void aRemovedActionDoesNotRun() {
    var scope = CallScope.withoutDeadline();
    var runs = new AtomicInteger();
    var removed = scope.onCancel(runs::incrementAndGet);
    var kept = scope.onCancel(runs::incrementAndGet);

    removed.remove();
    scope.cancel();

    assertThat(runs).hasValue(1);
    kept.remove();
  }

  @Test
  void aFailingActionDoesNotKeepTheOthersFromRunning() {
    var scope = CallScope.withoutDeadline();
    List<String> ran = new ArrayList<>();
    scope.onCancel(() -> {
      ran.add("first");
      throw new IllegalStateException("first failed");
    });
    scope.onCancel(() -> ran.add("second"));

    assertThatThrownBy(scope::cancel).hasMessage("first failed");

    assertThat(ran).containsExactly("first", "second");
    assertThat(scope.isCancelled()).isTrue();
  }

  @Test
  void aLiveCallHasNoCancellationToReport() {
    var scope = CallScope.withoutDeadline();

    scope.throwIfCancelled();
    assertThatThrownBy(() -> scope.cancellation(null)).isInstanceOf(IllegalStateException.class);
  }
}
