package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import ch.qos.logback.classic.ClassicConstants;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.read.ListAppender;
import dev.users.bootstrap.Config.LogFormat;
import dev.users.bootstrap.Config.LogLevel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/** What the service's logging writes on stdout for each USERS_LOG_FORMAT and USERS_LOG_LEVEL. */
class LogFormatTest {

  private final PrintStream stdout = System.out;
  private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();

  @AfterEach
  void restoreLogging() throws Exception {
    System.setOut(stdout);
    context.reset();
    new ContextInitializer(context).autoConfig();
  }

  @Test
  void jsonIsOneObjectPerLineWithTheRequestIdAndTheAccessFields() throws Exception {
    var lines = linesWritten(LogFormat.JSON);

    assertThat(lines).hasSize(2);
    var mapper = new ObjectMapper();
    JsonNode application = mapper.readTree(lines.get(0));
    assertThat(application.path("@timestamp").asString()).isNotEmpty();
    assertThat(application.path("level").asString()).isEqualTo("WARN");
    assertThat(application.path("logger_name").asString()).isEqualTo("dev.users.bootstrap.UsersServer");
    assertThat(application.path("message").asString()).isEqualTo("storage unavailable");
    assertThat(application.path("request_id").asString()).isEqualTo("req-1");
    JsonNode access = mapper.readTree(lines.get(1));
    assertThat(access.path("level").asString()).isEqualTo("INFO");
    assertThat(access.path("logger_name").asString()).isEqualTo("access");
    assertThat(access.path("message").asString()).isEqualTo("users.v1.UserService/GetUser OK 7 ms");
    assertThat(access.path("request_id").asString()).isEqualTo("req-1");
    assertThat(access.path("method").asString()).isEqualTo("users.v1.UserService/GetUser");
    assertThat(access.path("status_code").asString()).isEqualTo("OK");
    assertThat(access.path("duration_ms").asLong()).isEqualTo(7);
  }

  @Test
  void textKeepsTheAccessLineAsItWas() throws Exception {
    var lines = linesWritten(LogFormat.TEXT);

    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).endsWith(" dev.users.bootstrap.UsersServer req-1 - storage unavailable");
    assertThat(lines.get(1)).contains(" INFO ").endsWith(" access req-1 - users.v1.UserService/GetUser OK 7 ms");
  }

  @Test
  void theLevelHoldsTheServiceWhileLibrariesKeepTheirOwn() throws Exception {
    var out = new ByteArrayOutputStream();
    configure(new PrintStream(out, true, StandardCharsets.UTF_8), LogFormat.TEXT, LogLevel.WARN);

    LoggerFactory.getLogger(UsersServer.class).info("users-service listening");
    LoggerFactory.getLogger(UsersServer.class).warn("storage unavailable");
    assertThat(context.getLogger("org.postgresql").getEffectiveLevel()).hasToString("INFO");
    assertThat(context.getLogger("io.grpc.netty.shaded.io.netty.handler.codec.http2").getEffectiveLevel())
        .hasToString("WARN");
    Logging.stop();

    assertThat(out.toString(StandardCharsets.UTF_8).lines()).singleElement(as(STRING))
        .endsWith(" dev.users.bootstrap.UsersServer  - storage unavailable");
  }

  @Test
  void aConfigurationFileOfOnesOwnReplacesTheService() throws Exception {
    var own = new ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
    own.setContext(context);
    own.start();
    context.reset();
    context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(own);
    System.setProperty(ClassicConstants.CONFIG_FILE_PROPERTY, "own-logback.xml");
    try {
      Logging.configure(new Config.Logs(LogFormat.JSON, LogLevel.INFO));
    } finally {
      System.clearProperty(ClassicConstants.CONFIG_FILE_PROPERTY);
    }

    LoggerFactory.getLogger(UsersServer.class).warn("storage unavailable");
    assertThat(own.list).singleElement().extracting(event -> event.getFormattedMessage())
        .isEqualTo("storage unavailable");
  }

  @Test
  void accessLinesReachStdoutWithoutWaitingForMoreAndManyTakeFewerWrites() throws Exception {
    var writes = new AtomicInteger();
    var out = new ByteArrayOutputStream() {
      @Override
      public synchronized void write(byte[] bytes, int offset, int length) {
        writes.incrementAndGet();
        super.write(bytes, offset, length);
      }
    };
    configure(new PrintStream(out, true, StandardCharsets.UTF_8), LogFormat.TEXT, LogLevel.INFO);
    var access = LoggerFactory.getLogger("access");

    access.info("users.v1.UserService/GetUser OK 1 ms");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (out.toString(StandardCharsets.UTF_8).isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(out.toString(StandardCharsets.UTF_8)).as("a lone line is written at once, not held in a buffer")
        .endsWith("users.v1.UserService/GetUser OK 1 ms\n");

    writes.set(0);
    int lines = 2_000;
    for (int i = 0; i < lines; i++) {
      access.info("users.v1.UserService/GetUser OK {} ms", i);
    }
    Logging.stop();
    assertThat(out.toString(StandardCharsets.UTF_8).lines()).hasSize(lines + 1);
    System.out.printf("%d access lines took %d writes to stdout%n", lines, writes.get());
    assertThat(writes.get()).as("lines queued together are written together").isLessThan(lines / 2);
  }

  /** Points System.out at {@code stdout} and configures logging as the service does. */
  private void configure(PrintStream stdout, LogFormat format, LogLevel level) {
    System.setOut(stdout);
    Logging.configure(new Config.Logs(format, level));
  }

  /** Logs an application line and an access line, as the service does, in {@code format}. */
  private List<String> linesWritten(LogFormat format) throws Exception {
    var out = new ByteArrayOutputStream();
    configure(new PrintStream(out, true, StandardCharsets.UTF_8), format, LogLevel.INFO);

    MDC.put("request_id", "req-1");
    try {
      LoggerFactory.getLogger(UsersServer.class).warn("storage unavailable");
      LoggerFactory.getLogger("access").atInfo()
          .addKeyValue("method", "users.v1.UserService/GetUser")
          .addKeyValue("status_code", "OK")
          .addKeyValue("duration_ms", 7L)
          .log("{} {} {} ms", "users.v1.UserService/GetUser", "OK", 7L);
    } finally {
      MDC.remove("request_id");
    }

    // As the JVM exits: the access line may still be queued.
    Logging.stop();
    return out.toString(StandardCharsets.UTF_8).lines().toList();
  }
}
