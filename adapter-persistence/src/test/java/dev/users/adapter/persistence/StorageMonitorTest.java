package dev.users.adapter.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The monitor's verdict when its own probe goes unanswered: an outage only if the database
 * answered nothing else meanwhile either. A probe starved of CPU on a saturated machine, or stuck
 * behind a slow link of its own, must not abort every call the database is busy answering.
 */
class StorageMonitorTest {

  private static final Duration PROBE_TIMEOUT = Duration.ofMillis(250);

  @Test
  void anUnansweredProbeIsNoOutageWhileTheDatabaseAnswersStatements() throws Exception {
    var losses = new AtomicInteger();
    try (var proxy = TcpProxy.inFrontOf(PostgresTestDatabase.get());
        var monitor = new StorageMonitor(through(proxy), proxy.jdbcUrl(), PROBE_TIMEOUT,
            System::nanoTime, losses::incrementAndGet)) {
      monitor.start();
      awaitFirstProbe(monitor);

      proxy.partition();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      while (System.nanoTime() < until) {
        assertThat(monitor.isAvailable()).as("statements answered: the database is there").isTrue();
        Thread.sleep(25);
      }
      assertThat(losses).hasValue(0);
    }
  }

  @Test
  void anUnansweredProbeIsAnOutageWhenNothingElseIsAnsweredEither() throws Exception {
    var losses = new AtomicInteger();
    long lastAnswer = System.nanoTime();
    LongSupplier nothingSince = () -> lastAnswer;
    try (var proxy = TcpProxy.inFrontOf(PostgresTestDatabase.get());
        var monitor = new StorageMonitor(through(proxy), proxy.jdbcUrl(), PROBE_TIMEOUT,
            nothingSince, losses::incrementAndGet)) {
      monitor.start();
      awaitFirstProbe(monitor);

      proxy.partition();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      // The verdict is published before the calls in flight are aborted.
      while ((monitor.isAvailable() || losses.get() == 0) && System.nanoTime() < until) {
        Thread.sleep(10);
      }
      assertThat(monitor.isAvailable()).as("silence everywhere is an outage").isFalse();
      assertThat(losses).hasValue(1);
    }
  }

  private static PGSimpleDataSource through(TcpProxy proxy) {
    var database = PostgresTestDatabase.get();
    var connections = new PGSimpleDataSource();
    connections.setURL(proxy.jdbcUrl());
    connections.setUser(database.user());
    connections.setPassword(database.password());
    connections.setConnectTimeout(1);
    connections.setSocketTimeout(1);
    return connections;
  }

  /** The first probe opens the monitor's connection, before the link goes quiet. */
  private static void awaitFirstProbe(StorageMonitor monitor) throws InterruptedException {
    Thread.sleep(2 * StorageMonitor.INTERVAL.toMillis());
    assertThat(monitor.isAvailable()).isTrue();
  }
}
