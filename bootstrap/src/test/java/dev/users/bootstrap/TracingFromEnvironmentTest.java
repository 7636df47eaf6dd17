package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.ReadableSpan;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which OpenTelemetry the service traces with, by the standard OTEL_* variables. */
class TracingFromEnvironmentTest {

  @Test
  void withoutAnOtlpEndpointNothingIsTracedNorExported() {
    var openTelemetry = Tracing.fromEnvironment(Map.of());
    var span = openTelemetry.getTracer("test").spanBuilder("call").startSpan();
    assertThat(openTelemetry).isSameAs(OpenTelemetry.noop());
    assertThat(span.getSpanContext().isValid()).isFalse();
  }

  @Test
  void withAnOtlpEndpointTheAutoconfiguredSdkTracesUsersService() {
    var openTelemetry = Tracing.fromEnvironment(Map.of(Tracing.ENDPOINT, "http://127.0.0.1:4318"));
    try (var sdk = (OpenTelemetrySdk) openTelemetry) {
      var span = sdk.getTracer("test").spanBuilder("call").startSpan();
      assertThat(span.getSpanContext().isValid()).isTrue();
      assertThat(((ReadableSpan) span).toSpanData().getResource().getAttribute(AttributeKey.stringKey("service.name")))
          .isEqualTo("users-service");
      // Not ended: an ended span would be exported at close to an endpoint nobody listens on,
      // with the exporter's retries.
    }
  }
}
