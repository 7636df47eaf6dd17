package dev.users.bootstrap;

/** A setting is missing or malformed; the message is one line that names the setting. */
final class ConfigException extends RuntimeException {

  ConfigException(String variable, String problem) {
    super(variable + " " + problem, null, false, false);
  }
}
