package dev.users.application.register;

import dev.users.application.port.IdempotencyKey;
import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.InvalidInputException;
import dev.users.domain.Violations;
import java.util.Objects;
import java.util.Optional;

/** What a registration needs; {@code idempotencyKey} is the caller's optional idempotency key. */
public record RegisterUserCommand(Email email, DisplayName displayName, Optional<IdempotencyKey> idempotencyKey) {

  public RegisterUserCommand {
    Objects.requireNonNull(email, "email");
    Objects.requireNonNull(displayName, "displayName");
    Objects.requireNonNull(idempotencyKey, "idempotencyKey");
  }

  /**
   * Reads a registration from raw text; an empty {@code idempotencyKey} means none.
   *
   * @throws InvalidInputException listing every invalid field
   */
  public static RegisterUserCommand of(String email, String displayName, String idempotencyKey) {
    var violations = new Violations();
    var validEmail = violations.check(() -> new Email(email));
    var validName = violations.check(() -> new DisplayName(displayName));
    var validIdempotencyKey =
        idempotencyKey == null || idempotencyKey.isEmpty()
            ? Optional.<IdempotencyKey>empty()
            : violations.check(() -> Optional.of(new IdempotencyKey(idempotencyKey)));
    violations.throwIfAny();
    return new RegisterUserCommand(validEmail, validName, validIdempotencyKey);
  }
}
