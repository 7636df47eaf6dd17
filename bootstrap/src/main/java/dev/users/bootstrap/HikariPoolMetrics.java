package dev.users.bootstrap;

import com.zaxxer.hikari.metrics.IMetricsTracker;
import com.zaxxer.hikari.metrics.MetricsTrackerFactory;
import com.zaxxer.hikari.metrics.PoolStats;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableLongUpDownCounter;
import java.util.List;

/**
 * HikariCP's pool, reported under OpenTelemetry's database-client semantic conventions
 * ({@code db.client.connection.*}): HikariCP has no OpenTelemetry tracker of its own, and these
 * names are the ones dashboards for other pools already use.
 */
final class HikariPoolMetrics implements MetricsTrackerFactory {

  private static final AttributeKey<String> POOL_NAME = AttributeKey.stringKey("db.client.connection.pool.name");
  private static final AttributeKey<String> STATE = AttributeKey.stringKey("db.client.connection.state");

  private final Meter meter;

  HikariPoolMetrics(Meter meter) {
    this.meter = meter;
  }

  @Override
  public IMetricsTracker create(String poolName, PoolStats stats) {
    var pool = Attributes.of(POOL_NAME, poolName);
    var used = pool.toBuilder().put(STATE, "used").build();
    var idle = pool.toBuilder().put(STATE, "idle").build();
    List<ObservableLongUpDownCounter> observers = List.of(
        meter.upDownCounterBuilder("db.client.connection.count")
            .setUnit("{connection}")
            .setDescription("Connections in the pool, by state: used (lent to a call) or idle.")
            .buildWithCallback(measurement -> {
              measurement.record(stats.getActiveConnections(), used);
              measurement.record(stats.getIdleConnections(), idle);
            }),
        meter.upDownCounterBuilder("db.client.connection.pending_requests")
            .setUnit("{request}")
            .setDescription("Calls waiting for a connection from the pool.")
            .buildWithCallback(measurement -> measurement.record(stats.getPendingThreads(), pool)),
        meter.upDownCounterBuilder("db.client.connection.max")
            .setUnit("{connection}")
            .setDescription("The most connections the pool opens.")
            .buildWithCallback(measurement -> measurement.record(stats.getMaxConnections(), pool)));
    var timeouts = meter.counterBuilder("db.client.connection.timeouts")
        .setUnit("{timeout}")
        .setDescription("Calls that gave up waiting for a connection (USERS_DB_CONNECTION_TIMEOUT).")
        .build();
    return new IMetricsTracker() {
      @Override
      public void recordConnectionTimeout() {
        timeouts.add(1, pool);
      }

      @Override
      public void close() {
        observers.forEach(ObservableLongUpDownCounter::close);
      }
    };
  }
}
