package dev.users.application.access;

/** The caller is known, but may not do what they asked whoever the user concerned. */
public final class PermissionDeniedException extends AccessException {

  private final String operation;

  /**
   * @param operation what was refused, as the caller would name it ({@code ListUsers})
   * @param requirement what it takes, such as "scope users.read or users.admin"
   */
  public PermissionDeniedException(String operation, String requirement) {
    super(operation + " needs " + requirement);
    this.operation = operation;
  }

  public String operation() {
    return operation;
  }
}
