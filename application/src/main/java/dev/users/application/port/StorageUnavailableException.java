package dev.users.application.port;

/**
 * Storage could not be reached in time: the database is down, or every connection stayed busy.
 * The request did not take effect and can be retried later.
 */
public class StorageUnavailableException extends RuntimeException {

  public StorageUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
