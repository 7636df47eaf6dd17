package dev.users.bootstrap;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.Map;

/**
 * Traces exported over OTLP when the standard {@code OTEL_EXPORTER_OTLP_ENDPOINT} is set, with the
 * SDK's autoconfiguration so that the other standard {@code OTEL_*} variables work too; nothing at
 * all otherwise. Only traces: metrics have their own Prometheus port ({@link Metrics}), and logs
 * go to the log.
 */
final class Tracing {

  static final String ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT";

  private Tracing() {}

  static OpenTelemetry fromEnvironment(Map<String, String> env) {
    if (env.getOrDefault(ENDPOINT, "").isBlank()) {
      return OpenTelemetry.noop();
    }
    // Defaults only: OTEL_* variables and otel.* system properties take precedence. The SDK's
    // shutdown hook flushes the spans still buffered when the process exits.
    return AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(() -> Map.of(
            "otel.service.name", "users-service",
            "otel.traces.exporter", "otlp",
            "otel.metrics.exporter", "none",
            "otel.logs.exporter", "none"))
        .build()
        .getOpenTelemetrySdk();
  }
}
