package dev.users.application.importing;

import dev.users.domain.DomainException;
import dev.users.domain.User;

/** What became of one imported item. */
public sealed interface ImportOutcome {

  record Created(User user) implements ImportOutcome {}

  /**
   * The item was not created: an {@link dev.users.domain.InvalidInputException} or an {@link
   * dev.users.domain.EmailAlreadyTakenException}.
   */
  record Rejected(DomainException reason) implements ImportOutcome {}
}
