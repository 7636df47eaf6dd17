package dev.users.adapter.persistence;

import java.sql.PreparedStatement;
import org.jdbi.v3.core.statement.StatementContext;
import org.jdbi.v3.core.statement.StatementCustomizer;

/**
 * When PostgreSQL last answered a statement of the pool: what tells the {@link StorageMonitor} a
 * probe gone unanswered on a saturated machine from a database gone silent. One volatile write per
 * statement.
 */
final class AnswerClock implements StatementCustomizer {

  private volatile long lastAnswerNanos = System.nanoTime();

  @Override
  public void afterExecution(PreparedStatement statement, StatementContext context) {
    lastAnswerNanos = System.nanoTime();
  }

  /** In {@link System#nanoTime()}'s terms. */
  long lastAnswerNanos() {
    return lastAnswerNanos;
  }
}
