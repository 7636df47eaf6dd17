package dev.users.bootstrap;

import ch.qos.logback.core.PropertyDefinerBase;
import java.util.Locale;

/**
 * Tells logback.xml which encoder {@code USERS_LOG_FORMAT} asks for: {@code json} for one JSON
 * object per line, {@code text} for anything else.
 *
 * <p>Logging starts before {@link Config} is read, so a bad value must not break logging: it
 * falls back to text here, and {@link Config} then stops start-up with one line naming the
 * variable. Public only because logback instantiates it by reflection.
 */
public final class LogFormat extends PropertyDefinerBase {

  /** The values {@link Config} accepts, in the order the README lists them. */
  enum Kind { TEXT, JSON }

  private String requested = "";

  /** Set by logback from {@code <requested>} in logback.xml. */
  public void setRequested(String requested) {
    this.requested = requested == null ? "" : requested.strip();
  }

  @Override
  public String getPropertyValue() {
    return Kind.JSON.name().toLowerCase(Locale.ROOT).equals(requested) ? "json" : "text";
  }
}
