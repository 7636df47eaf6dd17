package dev.users.application.get;

import dev.users.application.access.AccessPolicy;
import dev.users.application.access.Caller;
import dev.users.application.port.UserRepository;
import dev.users.domain.User;
import dev.users.domain.UserNotFoundException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

public final class GetUserService implements GetUser {

  private final UserRepository users;

  public GetUserService(UserRepository users) {
    this.users = users;
  }

  @Override
  public CompletionStage<User> get(Caller caller, GetUserQuery query) {
    try {
      AccessPolicy.mayRead(caller, query.id());
    } catch (RuntimeException e) {
      return CompletableFuture.failedStage(e);
    }
    return users.findByIdAsync(query.id())
        .thenApply(found -> found.orElseThrow(() -> new UserNotFoundException(query.id())));
  }
}
