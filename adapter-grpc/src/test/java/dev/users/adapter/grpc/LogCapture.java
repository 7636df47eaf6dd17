package dev.users.adapter.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/** Collects what one logger writes during a test, whatever the configured level. */
final class LogCapture implements BeforeEachCallback, AfterEachCallback {

  private final Logger logger;
  private final BlockingQueue<ILoggingEvent> events = new LinkedBlockingQueue<>();
  private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
    @Override
    protected void append(ILoggingEvent event) {
      // Captures the MDC of the logging thread before the event changes threads.
      event.prepareForDeferredProcessing();
      events.add(event);
    }
  };
  private Level configuredLevel;

  private LogCapture(String loggerName) {
    this.logger = (Logger) LoggerFactory.getLogger(loggerName);
  }

  static LogCapture of(String loggerName) {
    return new LogCapture(loggerName);
  }

  static LogCapture of(Class<?> type) {
    return new LogCapture(type.getName());
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    configuredLevel = logger.getLevel();
    appender.start();
    logger.addAppender(appender);
    logger.setLevel(Level.ALL);
    logger.setAdditive(false);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    logger.detachAppender(appender);
    logger.setLevel(configuredLevel);
    logger.setAdditive(true);
    appender.stop();
  }

  /** The events logged so far and not yet taken by {@link #next()}. */
  java.util.List<ILoggingEvent> remaining() {
    var taken = new java.util.ArrayList<ILoggingEvent>();
    events.drainTo(taken);
    return taken;
  }

  /** The next event the logger writes, waiting for it since calls end asynchronously. */
  ILoggingEvent next() throws InterruptedException {
    var event = events.poll(10, TimeUnit.SECONDS);
    assertThat(event).as("an event logged by %s", logger.getName()).isNotNull();
    return event;
  }
}
