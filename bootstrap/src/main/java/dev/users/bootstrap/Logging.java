package dev.users.bootstrap;

import ch.qos.logback.classic.ClassicConstants;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import java.time.Duration;
import java.util.Map;
import net.logstash.logback.appender.LoggingEventAsyncDisruptorAppender;
import net.logstash.logback.encoder.com.lmax.disruptor.SleepingWaitStrategy;
import net.logstash.logback.encoder.LogstashEncoder;
import net.logstash.logback.fieldnames.LogstashCommonFieldNames;
import net.logstash.logback.fieldnames.LogstashFieldNames;
import org.slf4j.LoggerFactory;

/**
 * The service's logging: every event as one line on stdout, as container platforms expect, in
 * the format and at the level its settings ask for; and the end of logging as the JVM exits.
 *
 * <p>Configured here in code from {@link Config.Logs}, not by logback from an XML file: parsing
 * and interpreting one took about 65 ms of CPU at every start (BENCHMARKS.md), and the settings
 * are read and checked with the others. {@code -Dlogback.configurationFile=...} still replaces
 * all of it with a file of one's own.
 */
final class Logging {

  /** USERS_LOG_FORMAT=text: the request id ties a call's lines together. */
  private static final String TEXT_PATTERN =
      "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{36} %X{request_id:-} - %msg%n";

  /**
   * Lines the access log may hold while stdout is slower than the calls; when it is full, the
   * newest lines are dropped, never the calls delayed.
   */
  private static final int ACCESS_QUEUE_LINES = 8192;

  /**
   * How often the access log's writer looks for queued lines. A line reaches stdout at most this
   * long after its call ended; under load a look finds hundreds. An idle service's looks are for
   * nothing: every 10 ms they took 0.7% of a core, about twice the rest of the idle service; every
   * 25 ms, 0.3%. In 25 ms the queue still holds what 300,000 calls a second log.
   */
  private static final Duration ACCESS_WRITE_INTERVAL = Duration.ofMillis(25);

  /** Libraries held at a level of their own, whatever USERS_LOG_LEVEL says. */
  private static final Map<String, Level> LIBRARY_LEVELS = Map.of(
      // Logs keep no personal data: Netty's frame logging dumps request bytes and headers, and
      // pgjdbc's DEBUG and TRACE lines show every statement's bound values (emails, names).
      "io.grpc.netty.shaded", Level.WARN,
      "org.postgresql", Level.INFO,
      "com.zaxxer.hikari", Level.WARN,
      // A connection broken by a database outage: the storage monitor logs the outage once,
      // where HikariCP would add a stack trace for every connection in use.
      "com.zaxxer.hikari.pool.ProxyConnection", Level.ERROR,
      "org.flywaydb", Level.INFO);

  private Logging() {}

  /**
   * Replaces whatever logging was set up before with the service's: the root logger's lines on
   * stdout at {@code logs.level()}, and the access log (logger {@code access}) through a bounded
   * queue of its own. Does nothing when {@code -Dlogback.configurationFile} names a file, which
   * logback has then applied.
   */
  static void configure(Config.Logs logs) {
    if (System.getProperty(ClassicConstants.CONFIG_FILE_PROPERTY) != null
        || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;
    }
    context.reset();

    var root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(logs.level().name()));
    root.addAppender(started(context, "STDOUT", new ConsoleAppender<>(), encoder(context, logs.format())));
    LIBRARY_LEVELS.forEach((name, level) -> context.getLogger(name).setLevel(level));

    // The access log never blocks a call. Its writer thread takes the queued lines in batches and
    // flushes its own buffered stdout at the end of each: one write(2) per batch, where logback's
    // AsyncAppender over a ConsoleAppender made one per line. The access log has an appender of
    // its own, not the root's: stopping logback stops the root's appenders first, and the lines
    // still queued must find theirs running.
    var writer = new BufferedStdoutAppender<ILoggingEvent>();
    writer.setImmediateFlush(false);
    var queue = new LoggingEventAsyncDisruptorAppender();
    queue.setContext(context);
    queue.setName("ACCESS");
    queue.setRingBufferSize(ACCESS_QUEUE_LINES);
    // The writer sleeps between looks, and a call that queues a line never wakes it: woken for
    // each line as it was (the queue's default, a lock and a condition), the wake-ups on both sides
    // cost about 4% of a GetUser's CPU under load (BENCHMARKS.md). No spinning or yielding first:
    // on two cores, those take the time the calls need.
    queue.setWaitStrategy(new SleepingWaitStrategy(0, ACCESS_WRITE_INTERVAL.toNanos()));
    queue.addAppender(started(context, "ACCESS_STDOUT", writer, encoder(context, logs.format())));
    queue.start();
    var access = context.getLogger("access");
    access.setAdditive(false);
    access.addAppender(queue);
  }

  /**
   * Stops the access log first: stopping its queue writes the lines still waiting in it, which
   * only works while the appender under it runs, and logback's own stop ends appenders in no set
   * order.
   */
  static void stop() {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      context.getLogger("access").detachAndStopAllAppenders();
      context.stop();
    }
  }

  private static Encoder<ILoggingEvent> encoder(LoggerContext context, Config.LogFormat format) {
    Encoder<ILoggingEvent> encoder = switch (format) {
      case TEXT -> {
        var text = new PatternLayoutEncoder();
        text.setPattern(TEXT_PATTERN);
        yield text;
      }
      case JSON -> {
        // One JSON object per line: @timestamp, level, logger_name, thread_name, message, the MDC
        // (request_id; trace_id and span_id when tracing is on), an event's key-value pairs (the
        // access line's method, status_code, duration_ms) as fields, and stack_trace. Left out:
        // the logging context's properties, which are logback's, not the event's; the Logstash
        // schema version, and the level as a number, which tell a reader nothing more.
        var json = new LogstashEncoder();
        json.setIncludeContext(false);
        var names = new LogstashFieldNames();
        names.setVersion(LogstashCommonFieldNames.IGNORE_FIELD_INDICATOR);
        names.setLevelValue(LogstashCommonFieldNames.IGNORE_FIELD_INDICATOR);
        json.setFieldNames(names);
        yield json;
      }
    };
    encoder.setContext(context);
    encoder.start();
    return encoder;
  }

  private static <A extends OutputStreamAppender<ILoggingEvent>> A started(LoggerContext context, String name,
      A appender, Encoder<ILoggingEvent> encoder) {
    appender.setContext(context);
    appender.setName(name);
    appender.setEncoder(encoder);
    appender.start();
    return appender;
  }
}
