package dev.users.adapter.persistence;

import dev.users.application.port.CallScope;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.statement.StatementContext;
import org.jdbi.v3.core.statement.StatementCustomizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ties every statement to the call it serves ({@link CallScope#current()}): a statement of a call
 * that is already over is not sent, and a running one is cancelled the moment its call is
 * cancelled or passes its deadline, so that its connection goes back to the pool at once instead
 * of waiting for the server's statement timeout. The repository reports the cancelled statement
 * (SQLState 57014) as the call's {@link dev.users.application.port.CallCancelledException}.
 *
 * <p>The deadline works through the cancellation: the inbound adapter ends the scope when the
 * deadline passes, to the millisecond, where JDBC's query timeout only counts whole seconds.
 */
final class CallScopeStatementCustomizer implements StatementCustomizer {

  private static final Logger log = LoggerFactory.getLogger(CallScopeStatementCustomizer.class);

  /**
   * pgjdbc ignores a cancel that arrives before the statement is on its way to the server, which
   * a call ending at that very instant could hit; a cancel is therefore repeated, this long apart,
   * while the statement has not finished. A cancel that did land ends the statement well before.
   */
  private static final long RETRY_MILLIS = 50;

  /** Bounds the repeats; the server's statement timeout remains the last resort. */
  private static final int MAX_ATTEMPTS = 20;

  @Override
  public void beforeExecution(PreparedStatement statement, StatementContext context) {
    var scope = CallScope.current();
    scope.throwIfCancelled();
    var execution = new Execution(statement);
    var registration = scope.onCancel(execution::cancelInBackground);
    // Cleanables run when the statement closes, however it ended; a cancel after that is a no-op.
    context.addCleanable(() -> {
      execution.finished = true;
      registration.remove();
    });
  }

  private static final class Execution {

    private final PreparedStatement statement;
    private volatile boolean finished;

    Execution(PreparedStatement statement) {
      this.statement = statement;
    }

    /**
     * Cancelling opens a connection to the server and waits for it: never in the thread that ends
     * the call, which may be a transport or timer thread serving other calls.
     */
    void cancelInBackground() {
      Thread.ofVirtual().name("statement-cancel").start(this::cancelUntilFinished);
    }

    private void cancelUntilFinished() {
      for (int attempt = 0; attempt < MAX_ATTEMPTS && !finished; attempt++) {
        try {
          statement.cancel();
          TimeUnit.MILLISECONDS.sleep(RETRY_MILLIS);
        } catch (SQLException e) {
          // The statement goes on until the server's statement timeout; worth knowing, not failing.
          log.warn("cannot cancel the statement of a call that ended: {}", e.getMessage());
          return;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }
}
