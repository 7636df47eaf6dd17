package dev.users.application.delete;

import dev.users.application.access.AccessPolicy;
import dev.users.application.access.Caller;
import dev.users.application.port.UserRepository;

public final class DeleteUserService implements DeleteUser {

  private final UserRepository users;

  public DeleteUserService(UserRepository users) {
    this.users = users;
  }

  @Override
  public void delete(Caller caller, DeleteUserCommand command) {
    AccessPolicy.mayDelete(caller);
    users.delete(command.id(), current -> command.ifMatch().ifPresent(current::requireEtag));
  }
}
