package dev.users.adapter.persistence;

import java.net.SocketTimeoutException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether PostgreSQL answers, asked on a connection of its own four times a second. A pool whose every
 * connection is busy is load, not an outage: borrowing from it to ask would report the database
 * down exactly when it is working hardest.
 *
 * <p>An outage is logged once when it starts, with its cause, and once when it ends, with its
 * duration; when it starts, {@code onLoss} runs, so that calls blocked on the lost database can be
 * failed at once.
 *
 * <p>A probe that goes unanswered is an outage only if the database answered no statement of the
 * pool since the probe began either. On a machine saturated with work the probe's thread may not
 * run in time while the database serves calls at full speed; a real silence stops those answers
 * too, so it is still seen, at worst one probe later.
 */
final class StorageMonitor implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(StorageMonitor.class);

  /**
   * A quarter of a second between probes plus at most a second per probe: an outage is seen within
   * about 1.25 s. A probe is one {@code SELECT 1}, which costs the database nothing.
   */
  static final Duration INTERVAL = Duration.ofMillis(250);

  /**
   * Longer would let a silent database go unnoticed; shorter would take a database that is merely
   * busy for one that is gone, and abort every call it is serving.
   */
  private static final Duration LONGEST_PROBE = Duration.ofSeconds(1);

  private final DataSource connections;
  private final String where;
  private final int probeTimeoutMillis;
  private final LongSupplier lastAnswerNanos;
  private final Runnable onLoss;
  private final ScheduledExecutorService schedule;
  private volatile boolean available = true;
  private volatile boolean closed;
  private Connection connection; // only touched by the schedule's thread
  private long outageStartedNanos;

  /**
   * @param connections a source of unpooled connections whose socket timeout bounds a login
   * @param where the database as logs should name it
   * @param probeTimeout how long a trivial query may take before the database counts as silent;
   *     at most a second is used
   * @param lastAnswerNanos when, in {@link System#nanoTime()}, the database last answered a
   *     statement on another connection: a probe that times out is an outage only if nothing was
   *     answered since it started
   */
  StorageMonitor(DataSource connections, String where, Duration probeTimeout, LongSupplier lastAnswerNanos,
      Runnable onLoss) {
    this.connections = connections;
    this.where = where;
    this.probeTimeoutMillis = (int) Math.min(probeTimeout.toMillis(), LONGEST_PROBE.toMillis());
    this.lastAnswerNanos = lastAnswerNanos;
    this.onLoss = onLoss;
    this.schedule = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform()
        .name("users-storage-monitor")
        .daemon(true)
        .factory());
  }

  void start() {
    schedule.scheduleWithFixedDelay(this::check, 0, INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The verdict of the latest probe; never blocks. */
  boolean isAvailable() {
    return available && !closed;
  }

  @Override
  public void close() {
    closed = true;
    schedule.shutdownNow();
    try {
      schedule.awaitTermination(2 * LONGEST_PROBE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    discardConnection();
  }

  private void check() {
    try {
      long probeStarted = System.nanoTime();
      var failure = probe();
      if (failure != null && timedOut(failure) && lastAnswerNanos.getAsLong() - probeStarted > 0) {
        // Silent to the probe, yet answering the pool: a machine too busy to run the probe in
        // time, not a database gone. Aborting the calls it is answering would turn load into
        // failures.
        log.debug("storage probe timed out while PostgreSQL at {} answered statements; not an outage", where);
        failure = null;
      }
      judge(failure);
    } catch (RuntimeException e) {
      // A scheduled task that throws is never run again: monitoring must outlive its own bugs.
      log.error("storage monitor failed; probing again in {} ms", INTERVAL.toMillis(), e);
    }
  }

  private void judge(SQLException failure) {
    if (failure == null && !available) {
      available = true;
      log.info("storage available again: PostgreSQL at {} answers; the outage lasted {} ms",
          where, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - outageStartedNanos));
    } else if (failure != null && available) {
      available = false;
      outageStartedNanos = System.nanoTime();
      log.warn("storage unavailable: PostgreSQL at {} does not answer (SQLState {}: {}); calls fail UNAVAILABLE "
          + "until it does", where, failure.getSQLState(), PostgresStorage.reason(failure));
      onLoss.run();
    }
  }

  /** Null when the database answered, otherwise why it did not. */
  private SQLException probe() {
    boolean reused = connection != null;
    try {
      ask();
      return null;
    } catch (SQLException first) {
      discardConnection();
      // A connection the server closed (a restart, an idle-session timeout) says nothing yet about
      // the database: only a fresh one failing too does. A probe that timed out already waited.
      if (!reused || timedOut(first)) {
        return first;
      }
      try {
        ask();
        return null;
      } catch (SQLException second) {
        discardConnection();
        return second;
      }
    }
  }

  private void ask() throws SQLException {
    if (connection == null) {
      connection = connections.getConnection();
      // Milliseconds, where the data source only takes whole seconds.
      connection.setNetworkTimeout(Runnable::run, probeTimeoutMillis);
    }
    try (var statement = connection.createStatement()) {
      statement.execute("SELECT 1");
    }
  }

  private void discardConnection() {
    if (connection != null) {
      try {
        connection.abort(Runnable::run);
      } catch (SQLException e) {
        // Already closed: nothing left to release.
      }
      connection = null;
    }
  }

  private static boolean timedOut(SQLException failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof SocketTimeoutException) {
        return true;
      }
    }
    return false;
  }
}
