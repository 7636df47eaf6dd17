package dev.users.domain;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * A user of the directory: the aggregate every use case works on.
 *
 * <p>Users are immutable; a change returns a new instance. The {@link #version()} is the
 * version the user had when it was read from storage: storage increments it when it writes a
 * change. A caller who sent an etag gets {@link VersionConflictException} from {@link
 * #requireEtag} when the user has moved on since.
 *
 * <p>Timestamps have microsecond precision, the precision they are stored with, so a user reads
 * back exactly as it was written.
 */
public final class User {

  private final UserId id;
  private final Email email;
  private final DisplayName displayName;
  private final Instant createTime;
  private final Instant updateTime;
  private final long version;

  private User(
      UserId id, Email email, DisplayName displayName, Instant createTime, Instant updateTime, long version) {
    this.id = Objects.requireNonNull(id, "id");
    this.email = Objects.requireNonNull(email, "email");
    this.displayName = Objects.requireNonNull(displayName, "displayName");
    this.createTime = Objects.requireNonNull(createTime, "createTime");
    this.updateTime = Objects.requireNonNull(updateTime, "updateTime");
    if (version < 1) {
      throw new IllegalArgumentException("versions start at 1, got " + version);
    }
    this.version = version;
  }

  /** A user who registers now: version 1, created and updated at {@code now}. */
  public static User register(UserId id, Email email, DisplayName displayName, Instant now) {
    Instant at = now.truncatedTo(ChronoUnit.MICROS);
    return new User(id, email, displayName, at, at, 1);
  }

  /**
   * Rebuilds a user exactly as storage holds it; for its values use {@link Email#fromStorage} and
   * {@link DisplayName#fromStorage}, which do not judge them by rules tightened since.
   */
  public static User reconstitute(
      UserId id, Email email, DisplayName displayName, Instant createTime, Instant updateTime, long version) {
    return new User(id, email, displayName, createTime, updateTime, version);
  }

  /** The user under a new name, changed at {@code now}. */
  public User rename(DisplayName newName, Instant now) {
    return new User(id, email, newName, createTime, now.truncatedTo(ChronoUnit.MICROS), version);
  }

  /**
   * The user with a new email, changed at {@code now}. Whether another user has it already is for
   * storage to decide, which alone sees every user.
   */
  public User changeEmail(Email newEmail, Instant now) {
    return new User(id, newEmail, displayName, createTime, now.truncatedTo(ChronoUnit.MICROS), version);
  }

  /**
   * Checks that the caller's etag names this version of the user.
   *
   * @throws VersionConflictException when it names another one
   */
  public void requireEtag(Etag expected) {
    if (expected.version() != version) {
      throw new VersionConflictException(id);
    }
  }

  public UserId id() {
    return id;
  }

  public Email email() {
    return email;
  }

  public DisplayName displayName() {
    return displayName;
  }

  public Instant createTime() {
    return createTime;
  }

  public Instant updateTime() {
    return updateTime;
  }

  public long version() {
    return version;
  }

  public Etag etag() {
    return new Etag(version);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof User other
        && id.equals(other.id)
        && email.equals(other.email)
        && displayName.equals(other.displayName)
        && createTime.equals(other.createTime)
        && updateTime.equals(other.updateTime)
        && version == other.version;
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, email, displayName, createTime, updateTime, version);
  }

  @Override
  public String toString() {
    return "User[id=" + id + ", email=" + email + ", displayName=" + displayName + ", version=" + version + "]";
  }
}
