package dev.users.bootstrap;

import dev.users.adapter.persistence.PostgresStorage;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.opentelemetry.GrpcOpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.prometheus.PrometheusHttpServer;
import io.opentelemetry.instrumentation.runtimemetrics.java17.RuntimeMetrics;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.resources.Resource;
import java.io.UncheckedIOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenTelemetry metrics, scraped by Prometheus from their own HTTP port: grpc-java's standard
 * server instruments, the JVM's memory, GC and threads, and the PostgreSQL connection pool. The
 * SDK is built here rather than registered globally, so that nothing else in the process picks it
 * up by accident.
 */
final class Metrics implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Metrics.class);

  private final OpenTelemetrySdk sdk;
  private final RuntimeMetrics runtime;

  private Metrics(OpenTelemetrySdk sdk, RuntimeMetrics runtime) {
    this.sdk = sdk;
    this.runtime = runtime;
  }

  /** @throws UncheckedIOException when the port cannot be bound */
  static Metrics start(int port) {
    PrometheusHttpServer exporter;
    try {
      exporter = PrometheusHttpServer.builder().setPort(port).build();
    } catch (UncheckedIOException e) {
      throw new UncheckedIOException("cannot listen on USERS_METRICS_PORT " + port + ": " + e.getMessage(), e.getCause());
    }
    var sdk = OpenTelemetrySdk.builder()
        .setMeterProvider(SdkMeterProvider.builder()
            .setResource(Resource.getDefault().merge(
                Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "users-service"))))
            .registerMetricReader(exporter)
            .build())
        .build();
    log.info("Prometheus metrics on port {}, path /metrics", port);
    return new Metrics(sdk, RuntimeMetrics.create(sdk));
  }

  /** Adds grpc.server.call.started, grpc.server.call.duration and the message-size histograms. */
  void instrument(ServerBuilder<?> builder) {
    GrpcOpenTelemetry.newBuilder().sdk(sdk).build().configureServerBuilder(builder);
  }

  /**
   * The users API with the service's own counters (users.registered, users.imported, users.rejected,
   * users.deleted, storage.unavailable); to be wrapped by the in-flight limit, not to wrap it.
   */
  ServerServiceDefinition count(ServerServiceDefinition usersApi) {
    return ServerInterceptors.intercept(usersApi, new UserCounters(sdk.getMeter("users-service")));
  }

  /** Adds the pool's db.client.connection.* instruments. */
  void instrument(PostgresStorage storage) {
    storage.trackPool(new HikariPoolMetrics(sdk.getMeter("users-service")));
  }

  /** Stops the JVM observers and the exporter's HTTP server. */
  @Override
  public void close() {
    runtime.close();
    sdk.close();
  }
}
