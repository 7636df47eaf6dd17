package dev.users.domain;

/** Another user already has this email, compared ignoring case. */
public final class EmailAlreadyTakenException extends DomainException {

  private final Email email;

  public EmailAlreadyTakenException(Email email) {
    super("a user with email " + email + " already exists");
    this.email = email;
  }

  public Email email() {
    return email;
  }
}
