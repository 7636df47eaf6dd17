package dev.users.application.access;

import dev.users.domain.InvalidInputException;
import dev.users.domain.UserId;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Who a use case acts for: the verified subject of a call and the scopes it was granted. Inbound
 * adapters build it from whatever proves identity on their transport (a bearer token, say); the
 * use cases decide from it alone what the caller may do, whichever transport called them.
 *
 * @param subject who the caller is; for a user acting on their own record, that user's id
 * @param scopes what the caller was granted, such as {@value #ADMIN}
 */
public record Caller(String subject, Set<String> scopes) {

  /** Every operation on every user. */
  public static final String ADMIN = "users.admin";

  /** Reading any user: GetUser, ListUsers. */
  public static final String READ = "users.read";

  /** Creating, changing and deleting any user: CreateUser, UpdateUser, DeleteUser. */
  public static final String WRITE = "users.write";

  public Caller {
    Objects.requireNonNull(subject, "subject");
    if (subject.isBlank()) {
      throw new IllegalArgumentException("a caller's subject must not be blank");
    }
    scopes = Set.copyOf(scopes);
  }

  /**
   * The caller of a deployment that authenticates nobody (development, or behind a gateway that
   * already did): an administrator.
   */
  public static Caller unauthenticatedAdministrator() {
    return new Caller("anonymous", Set.of(ADMIN));
  }

  public boolean has(String scope) {
    return scopes.contains(scope);
  }

  /**
   * The user this caller is, when the subject is a user id (in any letter case); empty for a
   * caller that is no user, such as another service.
   */
  public Optional<UserId> userId() {
    try {
      return Optional.of(UserId.parse(subject));
    } catch (InvalidInputException e) {
      return Optional.empty();
    }
  }
}
