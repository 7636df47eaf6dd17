package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.users.adapter.persistence.PostgresTestDatabase;
import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The spans of a users-API call made through the real server over Netty on PostgreSQL. */
class TracingTest {

  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String CLIENT_SPAN_ID = "00f067aa0ba902b7";

  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
      .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
      .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
      .build();
  private final ListAppender<ILoggingEvent> accessLog = new ListAppender<>() {
    @Override
    protected void append(ILoggingEvent event) {
      // An event reads the MDC lazily, in the first thread that asks for it: here, the call's. Left
      // to the test's thread, a read racing the console appender found that thread's empty MDC.
      event.prepareForDeferredProcessing();
      super.append(event);
    }
  };
  private final Logger accessLogger = (Logger) LoggerFactory.getLogger("access");

  private String schema;
  private UsersServer server;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws Exception {
    accessLogger.detachAppender(accessLog);
    accessLogger.setLevel(null);
    if (server != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.stop();
    }
    if (schema != null) {
      PostgresTestDatabase.get().dropSchema(schema);
    }
    sdk.close();
  }

  @Test
  void anIncomingTraceparentIsTheParentOfTheServerSpanWhoseSqlStatementsAreItsChildrenWithoutBoundValues() throws Exception {
    start(sdk);
    spans.reset();

    var headers = new Metadata();
    headers.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER),
        "00-" + TRACE_ID + "-" + CLIENT_SPAN_ID + "-01");
    UserServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .createUser(CreateUserRequest.newBuilder().setEmail("traced@example.com").setDisplayName("Traced").build());

    var serverSpan = awaitServerSpan();
    assertThat(serverSpan.getTraceId()).isEqualTo(TRACE_ID);
    assertThat(serverSpan.getParentSpanId()).isEqualTo(CLIENT_SPAN_ID);
    assertThat(serverSpan.getName()).isEqualTo("users.v1.UserService/CreateUser");
    assertThat(serverSpan.getAttributes().asMap()).containsAllEntriesOf(Map.of(
        AttributeKey.stringKey("rpc.system"), "grpc",
        AttributeKey.stringKey("rpc.service"), "users.v1.UserService",
        AttributeKey.stringKey("rpc.method"), "CreateUser",
        AttributeKey.longKey("rpc.grpc.status_code"), 0L));
    List<SpanData> statements = spans.getFinishedSpanItems().stream()
        .filter(span -> span.getParentSpanId().equals(serverSpan.getSpanId()))
        .toList();
    System.out.println("SQL spans under CreateUser: " + statements.stream().map(SpanData::getName).toList());
    assertThat(statements).isNotEmpty().allSatisfy(statement -> {
      assertThat(statement.getTraceId()).isEqualTo(TRACE_ID);
      assertThat(statement.getName()).startsWith("jdbi.");
      assertThat(statement.getAttributes().asMap()).containsKey(AttributeKey.stringKey("sql"));
    });
    assertThat(spans.getFinishedSpanItems()).as("no span carries personal data")
        .allSatisfy(span -> assertThat(span.getAttributes().toString()).doesNotContain("traced@example.com"));
    assertThat(accessLog.list).anySatisfy(line -> assertThat(line.getMDCPropertyMap())
        .containsEntry("trace_id", TRACE_ID)
        .containsEntry("span_id", serverSpan.getSpanId())
        .containsKey("request_id"));
  }

  @Test
  void aLoneGetUsersLookupIsAChildOfItsServerSpanThoughAStorageThreadRunsIt() throws Exception {
    start(sdk);
    var stub = UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
    var id = stub.createUser(CreateUserRequest.newBuilder().setEmail("read@example.com").setDisplayName("Read").build())
        .getUser().getId();
    awaitServerSpan();
    spans.reset();

    var headers = new Metadata();
    headers.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER),
        "00-" + TRACE_ID + "-" + CLIENT_SPAN_ID + "-01");
    stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .getUser(GetUserRequest.newBuilder().setId(id).build());

    var serverSpan = awaitServerSpan();
    assertThat(serverSpan.getName()).isEqualTo("users.v1.UserService/GetUser");
    assertThat(spans.getFinishedSpanItems()).filteredOn(span -> span.getName().startsWith("jdbi."))
        .isNotEmpty()
        .allSatisfy(statement -> assertThat(statement.getParentSpanId()).isEqualTo(serverSpan.getSpanId()));
  }

  @Test
  void withoutTracingNoTraceIdsReachTheLogLines() throws Exception {
    start(OpenTelemetry.noop());

    UserServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .createUser(CreateUserRequest.newBuilder().setEmail("untraced@example.com").setDisplayName("Untraced").build());

    // The access line is written at onComplete, which can run just after the client has its response.
    var deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (accessLog.list.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(accessLog.list).singleElement().satisfies(line -> assertThat(line.getMDCPropertyMap())
        .containsKey("request_id")
        .doesNotContainKeys("trace_id", "span_id"));
  }

  private void start(OpenTelemetry openTelemetry) throws Exception {
    var database = PostgresTestDatabase.get();
    schema = database.newSchemaName();
    var config = Config.from(Map.of(
        "USERS_GRPC_PORT", "0",
        "USERS_STORAGE", "postgres",
        "USERS_DB_URL", database.jdbcUrl(),
        "USERS_DB_USER", database.user(),
        "USERS_DB_PASSWORD", database.password(),
        "USERS_DB_SCHEMA", schema));
    server = UsersServer.start(config, Storage.open(config, openTelemetry), Duration.ofMinutes(1), openTelemetry);
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
        .build();
    accessLog.start();
    accessLogger.addAppender(accessLog);
    accessLogger.setLevel(Level.INFO);
  }

  /** The server span ends at onComplete, which can run just after the client has its response. */
  private SpanData awaitServerSpan() throws InterruptedException {
    var deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      var found = spans.getFinishedSpanItems().stream().filter(span -> span.getKind() == SpanKind.SERVER).findFirst();
      if (found.isPresent()) {
        return found.get();
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no server span within 5 s: " + spans.getFinishedSpanItems());
  }
}
