package dev.users.application.access;

import static dev.users.application.access.Caller.ADMIN;
import static dev.users.application.access.Caller.READ;
import static dev.users.application.access.Caller.WRITE;

import dev.users.domain.UserId;
import dev.users.domain.UserNotFoundException;

/**
 * Who may do what, for every use case and whichever transport calls it.
 *
 * <ul>
 *   <li>{@value Caller#ADMIN}: everything, ImportUsers included (and only it may import);
 *   <li>{@value Caller#READ}: GetUser and ListUsers on any user;
 *   <li>{@value Caller#WRITE}: CreateUser, UpdateUser and DeleteUser on any user;
 *   <li>a user, with no scope: GetUser on their own user (the one whose id is their subject), and
 *       UpdateUser of its display name.
 * </ul>
 *
 * <p>A caller who may not call an operation at all (a service whose subject is no user id,
 * without the scope) is refused with {@link PermissionDeniedException}. A user who may only act
 * on their own user and asks for another one is told that the user does not exist, exactly as for
 * an id nobody has: otherwise the difference would tell them which ids exist.
 */
public final class AccessPolicy {

  private AccessPolicy() {}

  public static void mayRegister(Caller caller) {
    requireScope(caller, "CreateUser", WRITE);
  }

  public static void mayList(Caller caller) {
    requireScope(caller, "ListUsers", READ);
  }

  public static void mayDelete(Caller caller) {
    requireScope(caller, "DeleteUser", WRITE);
  }

  public static void mayImport(Caller caller) {
    if (!caller.has(ADMIN)) {
      throw new PermissionDeniedException("ImportUsers", "scope " + ADMIN);
    }
  }

  /**
   * @throws UserNotFoundException when the caller may read only their own user, and {@code id} is
   *     not it
   * @throws PermissionDeniedException when the caller is no user and lacks the scope
   */
  public static void mayRead(Caller caller, UserId id) {
    if (!holds(caller, READ)) {
      requireSelf(caller, id, "GetUser", READ);
    }
  }

  /**
   * @param changesEmail whether the update changes the email, which only {@value Caller#WRITE} may
   * @throws UserNotFoundException when the caller may update only their own user, and {@code id}
   *     is not it
   * @throws PermissionDeniedException when the caller is no user and lacks the scope, or when a
   *     user updating their own user without it changes its email
   */
  public static void mayUpdate(Caller caller, UserId id, boolean changesEmail) {
    if (holds(caller, WRITE)) {
      return;
    }
    requireSelf(caller, id, "UpdateUser", WRITE);
    if (changesEmail) {
      throw new PermissionDeniedException("UpdateUser of email", "scope " + WRITE + " or " + ADMIN);
    }
  }

  private static void requireScope(Caller caller, String operation, String scope) {
    if (!holds(caller, scope)) {
      throw new PermissionDeniedException(operation, "scope " + scope + " or " + ADMIN);
    }
  }

  private static boolean holds(Caller caller, String scope) {
    return caller.has(ADMIN) || caller.has(scope);
  }

  private static void requireSelf(Caller caller, UserId id, String operation, String scope) {
    var self = caller.userId();
    if (self.isEmpty()) {
      throw new PermissionDeniedException(operation, "scope " + scope + " or " + ADMIN + ", or a caller who is the user");
    }
    if (!self.get().equals(id)) {
      throw new UserNotFoundException(id);
    }
  }
}
