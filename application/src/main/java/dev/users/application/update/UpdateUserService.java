package dev.users.application.update;

import dev.users.application.access.AccessPolicy;
import dev.users.application.access.Caller;
import dev.users.application.port.UserRepository;
import dev.users.domain.User;
import java.time.Clock;

public final class UpdateUserService implements UpdateUser {

  private final UserRepository users;
  private final Clock clock;

  public UpdateUserService(UserRepository users, Clock clock) {
    this.users = users;
    this.clock = clock;
  }

  @Override
  public User update(Caller caller, UpdateUserCommand command) {
    AccessPolicy.mayUpdate(caller, command.id(),
        command.changes().stream().anyMatch(UserChange.ChangeEmail.class::isInstance));
    return users.update(command.id(), current -> {
      command.ifMatch().ifPresent(current::requireEtag);
      var now = clock.instant();
      var changed = current;
      for (var change : command.changes()) {
        changed = switch (change) {
          case UserChange.Rename rename -> changed.rename(rename.displayName(), now);
          case UserChange.ChangeEmail changeEmail -> changed.changeEmail(changeEmail.email(), now);
        };
      }
      return changed;
    });
  }
}
