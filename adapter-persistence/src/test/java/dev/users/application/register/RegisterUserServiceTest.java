package dev.users.application.register;

import static dev.users.application.UseCaseFixture.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.application.UseCaseFixture;
import dev.users.application.access.Caller;
import dev.users.application.access.PermissionDeniedException;
import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.Etag;
import dev.users.domain.FieldViolation;
import dev.users.domain.InvalidInputException;
import dev.users.domain.User;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** Runs on {@link UseCaseFixture}; see there why it lives in adapter-persistence. */
class RegisterUserServiceTest {

  private final UseCaseFixture fixture = new UseCaseFixture();
  private final RegisterUser register = new RegisterUserService(fixture.users(), fixture.ids(), fixture.clock());

  @Test
  void registersAUserWithAFreshIdTheClocksTimeAndTheFirstEtag() {
    var user = registered(RegisterUserCommand.of(" ada@example.org ", "Ada Lovelace", ""));

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
    var first = registered(RegisterUserCommand.of("ada@example.org", "Ada", "create-ada"));

    var repeated = registered(RegisterUserCommand.of("ada@example.org", "Ada", "create-ada"));

    assertThat(repeated).isEqualTo(first);
    assertThat(fixture.users().listFirst(10)).containsExactly(first);
  }

  @Test
  void registersAgainWhenNoIdempotencyKeyIsGiven() {
    registered(RegisterUserCommand.of("ada@example.org", "Ada", ""));

    var second = registered(RegisterUserCommand.of("grace@example.org", "Grace", ""));

    assertThat(second.id()).isEqualTo(UseCaseFixture.nthId(2));
    assertThat(fixture.users().listFirst(10)).hasSize(2);
  }

  @Test
  void refusesAnEmailTakenByAnotherUserIgnoringCase() {
    registered(RegisterUserCommand.of("ada@example.org", "Ada", ""));

    assertThat(failureOf(register.register(ADMIN, RegisterUserCommand.of("ADA@Example.org", "Impostor", ""))))
        .isInstanceOfSatisfying(EmailAlreadyTakenException.class,
            e -> assertThat(e.email()).isEqualTo(new Email("ADA@Example.org")));
    assertThat(fixture.users().listFirst(10)).hasSize(1);
  }

  @Test
  void aCallerWithoutTheScopeIsRefusedThroughTheStage() {
    var reader = new Caller("reader", Set.of());

    assertThat(failureOf(register.register(reader, RegisterUserCommand.of("ada@example.org", "Ada", ""))))
        .isInstanceOf(PermissionDeniedException.class);
    assertThat(fixture.users().listFirst(10)).isEmpty();
  }

  @Test
  void reportsEveryInvalidFieldAtOnce() {
    assertThatThrownBy(() -> RegisterUserCommand.of("not-an-email", "  ", "has spaces"))
        .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.violations())
            .extracting(FieldViolation::field)
            .containsExactly("email", "display_name", "idempotency_key"));
  }

  /** The user registered; the in-memory storage completes the stage before register returns. */
  private User registered(RegisterUserCommand command) {
    var future = register.register(ADMIN, command).toCompletableFuture();
    assertThat(future).isCompleted();
    return future.join();
  }

  /** What the stage failed with; the in-memory storage completes it before register returns. */
  private static Throwable failureOf(CompletionStage<User> stage) {
    var future = stage.toCompletableFuture();
    assertThat(future).isCompletedExceptionally();
    var failure = future.exceptionNow();
    return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
  }
}
