package dev.users.domain;

/**
 * The user changed since the caller read it: the etag the caller sent is stale, or a concurrent
 * change won the race. The caller should read the user again and reapply its change.
 */
public final class VersionConflictException extends DomainException {

  private final UserId id;

  public VersionConflictException(UserId id) {
    super("user " + id + " was changed concurrently; read it again and retry");
    this.id = id;
  }

  public UserId id() {
    return id;
  }
}
