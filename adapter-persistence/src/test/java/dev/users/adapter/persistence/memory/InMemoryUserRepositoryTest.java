package dev.users.adapter.persistence.memory;

import dev.users.adapter.persistence.UserRepositoryContract;
import dev.users.application.port.UserRepository;

class InMemoryUserRepositoryTest extends UserRepositoryContract {

  @Override
  protected UserRepository emptyRepository() {
    return new InMemoryUserRepository();
  }
}
