package dev.users.bootstrap;

import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;

/** Ends logging as the JVM exits, once the server has stopped and logged its last line. */
final class Logging {

  private Logging() {}

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
}
