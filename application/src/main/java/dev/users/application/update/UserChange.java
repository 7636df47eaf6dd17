package dev.users.application.update;

import dev.users.domain.DisplayName;
import dev.users.domain.Email;

/** One change a caller can make to a user. */
public sealed interface UserChange {

  record Rename(DisplayName displayName) implements UserChange {}

  record ChangeEmail(Email email) implements UserChange {}
}
