package dev.users.adapter.grpc;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.MDC;

/**
 * A SERVER span per call, child of the W3C {@code traceparent} in the request metadata (a new
 * trace when there is none), with the gRPC semantic-convention attributes. The span is the
 * current OpenTelemetry context, and its ids are in the MDC as {@value #TRACE_ID_KEY} and
 * {@value #SPAN_ID_KEY}, while each callback runs, so that the SQL statements a callback runs
 * become its children and its log lines carry the trace. Installed outermost, so that the access
 * log line, written at the end of the call, carries it too.
 */
public final class TracingInterceptor implements ServerInterceptor {

  static final String TRACE_ID_KEY = "trace_id";
  static final String SPAN_ID_KEY = "span_id";

  private static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");
  private static final AttributeKey<String> RPC_SERVICE = AttributeKey.stringKey("rpc.service");
  private static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");
  private static final AttributeKey<Long> RPC_GRPC_STATUS_CODE = AttributeKey.longKey("rpc.grpc.status_code");

  private static final TextMapGetter<Metadata> METADATA = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Metadata carrier) {
      return carrier.keys();
    }

    @Override
    public String get(Metadata carrier, String key) {
      if (carrier == null || key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        return null;
      }
      return carrier.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
    }
  };

  private final OpenTelemetry openTelemetry;
  private final String tracedService;
  private final Tracer tracer;

  /** Traces the calls of tracedService only: health probes every few seconds would be noise. */
  public TracingInterceptor(OpenTelemetry openTelemetry, String tracedService) {
    this.openTelemetry = openTelemetry;
    this.tracedService = tracedService;
    this.tracer = openTelemetry.getTracer("dev.users.adapter.grpc");
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    var method = call.getMethodDescriptor();
    if (!tracedService.equals(method.getServiceName())) {
      return next.startCall(call, headers);
    }
    var parent = openTelemetry.getPropagators().getTextMapPropagator()
        .extract(Context.root(), headers, METADATA);
    var span = tracer.spanBuilder(method.getFullMethodName())
        .setSpanKind(SpanKind.SERVER)
        .setParent(parent)
        .setAttribute(RPC_SYSTEM, "grpc")
        .setAttribute(RPC_SERVICE, method.getServiceName())
        .setAttribute(RPC_METHOD, method.getBareMethodName())
        .startSpan();
    var context = parent.with(span);
    var ended = new AtomicBoolean();
    var traced = new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        span.setAttribute(RPC_GRPC_STATUS_CODE, (long) status.getCode().value());
        if (!status.isOk()) {
          span.setStatus(StatusCode.ERROR, status.getCode().name());
        }
        super.close(status, trailers);
      }
    };
    var listener = within(context, span, () -> next.startCall(traced, headers));
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(Q message) {
        within(context, span, () -> super.onMessage(message));
      }

      @Override
      public void onHalfClose() {
        within(context, span, super::onHalfClose);
      }

      @Override
      public void onReady() {
        within(context, span, super::onReady);
      }

      @Override
      public void onCancel() {
        try {
          within(context, span, super::onCancel);
        } finally {
          end();
        }
      }

      @Override
      public void onComplete() {
        try {
          within(context, span, super::onComplete);
        } finally {
          end();
        }
      }

      private void end() {
        if (ended.compareAndSet(false, true)) {
          span.end();
        }
      }
    };
  }

  private static void within(Context context, Span span, Runnable action) {
    within(context, span, () -> {
      action.run();
      return null;
    });
  }

  /** The MDC values found before are restored, since a callback may run inside another call's. */
  private static <T> T within(Context context, Span span, java.util.function.Supplier<T> action) {
    String outerTrace = MDC.get(TRACE_ID_KEY);
    String outerSpan = MDC.get(SPAN_ID_KEY);
    MDC.put(TRACE_ID_KEY, span.getSpanContext().getTraceId());
    MDC.put(SPAN_ID_KEY, span.getSpanContext().getSpanId());
    try (var scope = context.makeCurrent()) {
      return action.get();
    } finally {
      restore(TRACE_ID_KEY, outerTrace);
      restore(SPAN_ID_KEY, outerSpan);
    }
  }

  private static void restore(String key, String value) {
    if (value == null) {
      MDC.remove(key);
    } else {
      MDC.put(key, value);
    }
  }
}
