package dev.users.archfixture.domain;

import dev.users.archfixture.application.SomeUseCase;

public class DomainUsingApplication {
  SomeUseCase useCase;
}
