package dev.users.application.get;

import dev.users.application.access.AccessPolicy;
import dev.users.application.access.Caller;
import dev.users.application.port.UserRepository;
import dev.users.domain.User;
import dev.users.domain.UserNotFoundException;

public final class GetUserService implements GetUser {

  private final UserRepository users;

  public GetUserService(UserRepository users) {
    this.users = users;
  }

  @Override
  public User get(Caller caller, GetUserQuery query) {
    AccessPolicy.mayRead(caller, query.id());
    return users.findById(query.id()).orElseThrow(() -> new UserNotFoundException(query.id()));
  }
}
