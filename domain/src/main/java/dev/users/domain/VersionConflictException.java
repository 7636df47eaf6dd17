package dev.users.domain;

/**
 * The user changed since the caller read it: the etag the caller sent is stale. Only a caller who
 * sent an etag meets it; it should read the user again and decide whether its change still holds.
 */
public final class VersionConflictException extends DomainException {

  private final UserId id;

  public VersionConflictException(UserId id) {
    super("user " + id + " has changed since the etag was read; read it again and retry");
    this.id = id;
  }

  public UserId id() {
    return id;
  }
}
