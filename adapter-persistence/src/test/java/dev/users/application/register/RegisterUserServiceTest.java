package dev.users.application.register;

import static dev.users.application.UseCaseFixture.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.application.UseCaseFixture;
import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.Etag;
import dev.users.domain.FieldViolation;
import dev.users.domain.InvalidInputException;
import org.junit.jupiter.api.Test;

/** Runs on {@link UseCaseFixture}; see there why it lives in adapter-persistence. */
class RegisterUserServiceTest {

  private final UseCaseFixture fixture = new UseCaseFixture();
  private final RegisterUser register = new RegisterUserService(fixture.users(), fixture.ids(), fixture.clock());

  @Test
  void registersAUserWithAFreshIdTheClocksTimeAndTheFirstEtag() {
    var user = register.register(ADMIN, RegisterUserCommand.of(" ada@example.org ", "Ada Lovelace", ""));

    assertThat(user.id()).isEqualTo(UseCaseFixture.nthId(1));
    assertThat(user.email()).isEqualTo(new Email("ada@example.org"));
    assertThat(user.displayName()).isEqualTo(new DisplayName("Ada Lovelace"));
    assertThat(user.createTime()).isEqualTo(UseCaseFixture.START);
    assertThat(user.updateTime()).isEqualTo(UseCaseFixture.START);
    assertThat(user.etag()).isEqualTo(new Etag(1));
    assertThat(fixture.users().findById(user.id())).contains(user);
  }

  @Test
  void returnsTheFirstUserWhenAnIdempotencyKeyIsRepeated() {
    var first = register.register(ADMIN, RegisterUserCommand.of("ada@example.org", "Ada", "create-ada"));

    var repeated = register.register(ADMIN, RegisterUserCommand.of("ada@example.org", "Ada", "create-ada"));

    assertThat(repeated).isEqualTo(first);
    assertThat(fixture.users().listFirst(10)).containsExactly(first);
  }

  @Test
  void registersAgainWhenNoIdempotencyKeyIsGiven() {
    register.register(ADMIN, RegisterUserCommand.of("ada@example.org", "Ada", ""));

    var second = register.register(ADMIN, RegisterUserCommand.of("grace@example.org", "Grace", ""));

    assertThat(second.id()).isEqualTo(UseCaseFixture.nthId(2));
    assertThat(fixture.users().listFirst(10)).hasSize(2);
  }

  @Test
  void refusesAnEmailTakenByAnotherUserIgnoringCase() {
    register.register(ADMIN, RegisterUserCommand.of("ada@example.org", "Ada", ""));

    assertThatThrownBy(() -> register.register(ADMIN, RegisterUserCommand.of("ADA@Example.org", "Impostor", "")))
        .isInstanceOfSatisfying(EmailAlreadyTakenException.class,
            e -> assertThat(e.email()).isEqualTo(new Email("ADA@Example.org")));
    assertThat(fixture.users().listFirst(10)).hasSize(1);
  }

  @Test
  void reportsEveryInvalidFieldAtOnce() {
    assertThatThrownBy(() -> RegisterUserCommand.of("not-an-email", "  ", "has spaces"))
        .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.violations())
            .extracting(FieldViolation::field)
            .containsExactly("email", "display_name", "idempotency_key"));
  }
}
