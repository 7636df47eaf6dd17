package dev.users.application.register;

import dev.users.application.port.RequestId;
import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.InvalidInputException;
import dev.users.domain.Violations;
import java.util.Objects;
import java.util.Optional;

/** What a registration needs; {@code requestId} is the caller's optional idempotency key. */
public record RegisterUserCommand(Email email, DisplayName displayName, Optional<RequestId> requestId) {

  public RegisterUserCommand {
    Objects.requireNonNull(email, "email");
    Objects.requireNonNull(displayName, "displayName");
    Objects.requireNonNull(requestId, "requestId");
  }

  /**
   * Reads a registration from raw text; an empty {@code requestId} means none.
   *
   * @throws InvalidInputException listing every invalid field
   */
  public static RegisterUserCommand of(String email, String displayName, String requestId) {
    var violations = new Violations();
    var validEmail = violations.check(() -> new Email(email));
    var validName = violations.check(() -> new DisplayName(displayName));
    var validRequestId =
        requestId == null || requestId.isEmpty()
            ? Optional.<RequestId>empty()
            : violations.check(() -> Optional.of(new RequestId(requestId)));
    violations.throwIfAny();
    return new RegisterUserCommand(validEmail, validName, validRequestId);
  }
}
