package dev.users.adapter.persistence;

/**
 * The database could not be reached or migrated at start-up. The message is one line, fit to be
 * the service's last words: where it tried and why it failed, without credentials or stack.
 */
public final class StorageStartupException extends RuntimeException {

  StorageStartupException(String message, Throwable cause) {
    super(message, cause);
  }
}
