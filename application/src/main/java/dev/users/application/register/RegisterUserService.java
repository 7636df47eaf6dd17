package dev.users.application.register;

import dev.users.application.access.AccessPolicy;
import dev.users.application.access.Caller;
import dev.users.application.port.UserIdGenerator;
import dev.users.application.port.UserRepository;
import dev.users.domain.User;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Registers users with ids from the generator and the clock's time. */
public final class RegisterUserService implements RegisterUser {

  private final UserRepository users;
  private final UserIdGenerator ids;
  private final Clock clock;

  public RegisterUserService(UserRepository users, UserIdGenerator ids, Clock clock) {
    this.users = users;
    this.ids = ids;
    this.clock = clock;
  }

  @Override
  public CompletionStage<User> register(Caller caller, RegisterUserCommand command) {
    User user;
    try {
      AccessPolicy.mayRegister(caller);
      user = User.register(ids.next(), command.email(), command.displayName(), clock.instant());
    } catch (RuntimeException e) {
      return CompletableFuture.failedStage(e);
    }
    return command.idempotencyKey()
        .map(idempotencyKey -> users.addAsync(user, idempotencyKey))
        .orElseGet(() -> users.addAsync(user));
  }
}
