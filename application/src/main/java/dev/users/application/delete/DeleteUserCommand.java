package dev.users.application.delete;

import dev.users.domain.Etag;
import dev.users.domain.InvalidInputException;
import dev.users.domain.UserId;
import dev.users.domain.Violations;
import java.util.Objects;
import java.util.Optional;

/** @param ifMatch when present, the user is deleted only if this is its current etag */
public record DeleteUserCommand(UserId id, Optional<Etag> ifMatch) {

  public DeleteUserCommand {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(ifMatch, "ifMatch");
  }

  /**
   * Reads a deletion from raw text; an empty {@code etag} means none.
   *
   * @throws InvalidInputException listing every invalid field
   */
  public static DeleteUserCommand of(String id, String etag) {
    var violations = new Violations();
    var validId = violations.check(() -> UserId.parse(id));
    var ifMatch =
        etag == null || etag.isEmpty()
            ? Optional.<Etag>empty()
            : violations.check(() -> Optional.of(Etag.parse(etag)));
    violations.throwIfAny();
    return new DeleteUserCommand(validId, ifMatch);
  }
}
