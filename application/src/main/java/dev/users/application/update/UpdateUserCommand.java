package dev.users.application.update;

import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.Etag;
import dev.users.domain.InvalidInputException;
import dev.users.domain.UserId;
import dev.users.domain.Violations;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An update of a user: the changes to make and, optionally, the etag they are based on.
 *
 * @param ifMatch when present, the update happens only if this is the user's current etag
 */
public record UpdateUserCommand(UserId id, Optional<Etag> ifMatch, List<UserChange> changes) {

  /** The fields a caller may change, by the names requests and errors use for them. */
  public static final Set<String> MUTABLE_FIELDS = Set.of("email", "display_name");

  private static final Set<String> IMMUTABLE_FIELDS = Set.of("id", "create_time", "update_time", "etag");

  public UpdateUserCommand {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(ifMatch, "ifMatch");
    changes = List.copyOf(changes);
  }

  /**
   * Reads an update from raw text. {@code fields} names the fields to change ({@link
   * #MUTABLE_FIELDS}); empty means all of them. Values of fields not named are ignored; an empty
   * {@code etag} means none.
   *
   * @throws InvalidInputException listing every invalid field; problems with {@code fields} are
   *     reported under {@code update_mask}
   */
  public static UpdateUserCommand of(
      String id, String etag, String email, String displayName, Collection<String> fields) {
    var violations = new Violations();
    var validId = violations.check(() -> UserId.parse(id));
    var ifMatch =
        etag == null || etag.isEmpty()
            ? Optional.<Etag>empty()
            : violations.check(() -> Optional.of(Etag.parse(etag)));
    for (String field : fields) {
      if (IMMUTABLE_FIELDS.contains(field)) {
        violations.add("update_mask", "field '" + field + "' cannot be changed");
      } else if (!MUTABLE_FIELDS.contains(field)) {
        violations.add("update_mask", "unknown field '" + field + "'; expected one of email, display_name");
      }
    }
    var changes = new ArrayList<UserChange>();
    if (fields.isEmpty() || fields.contains("email")) {
      changes.add(violations.check(() -> new UserChange.ChangeEmail(new Email(email))));
    }
    if (fields.isEmpty() || fields.contains("display_name")) {
      changes.add(violations.check(() -> new UserChange.Rename(new DisplayName(displayName))));
    }
    violations.throwIfAny();
    return new UpdateUserCommand(validId, ifMatch, changes);
  }
}
