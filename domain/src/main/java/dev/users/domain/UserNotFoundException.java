package dev.users.domain;

/** No user has the requested id. */
public final class UserNotFoundException extends DomainException {

  private final UserId id;

  public UserNotFoundException(UserId id) {
    super("user " + id + " was not found");
    this.id = id;
  }

  public UserId id() {
    return id;
  }
}
