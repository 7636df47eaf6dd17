package dev.users.application.get;

import static dev.users.application.UseCaseFixture.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.application.UseCaseFixture;
import dev.users.application.access.Caller;
import dev.users.domain.FieldViolation;
import dev.users.domain.InvalidInputException;
import dev.users.domain.User;
import dev.users.domain.UserNotFoundException;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** Runs on {@link UseCaseFixture}; see there why it lives in adapter-persistence. */
class GetUserServiceTest {

  private final UseCaseFixture fixture = new UseCaseFixture();
  private final GetUser get = new GetUserService(fixture.users());

  @Test
  void returnsTheUserWithTheId() {
    fixture.registered("grace@example.org", "Grace");
    var ada = fixture.registered("ada@example.org", "Ada");

    assertThat(get.get(ADMIN, GetUserQuery.of(ada.id().toString()))).isCompletedWithValue(ada);
  }

  @Test
  void reportsAnUnknownIdAsNotFound() {
    var unknown = UseCaseFixture.nthId(99);

    assertThat(failureOf(get.get(ADMIN, new GetUserQuery(unknown))))
        .isInstanceOfSatisfying(UserNotFoundException.class, e -> assertThat(e.id()).isEqualTo(unknown));
  }

  @Test
  void refusesAnIdThatIsNotAUuid() {
    assertThatThrownBy(() -> GetUserQuery.of("42"))
        .isInstanceOfSatisfying(InvalidInputException.class,
            e -> assertThat(e.violations()).extracting(FieldViolation::field).containsExactly("id"));
  }

  @Test
  void aUserWithoutScopesReadsThemselvesAndFindsNoOtherUser() {
    var grace = fixture.registered("grace@example.org", "Grace");
    var ada = fixture.registered("ada@example.org", "Ada");
    var herself = new Caller(ada.id().toString(), Set.of());

    assertThat(get.get(herself, new GetUserQuery(ada.id()))).isCompletedWithValue(ada);
    assertThat(failureOf(get.get(herself, new GetUserQuery(grace.id()))))
        .isInstanceOfSatisfying(UserNotFoundException.class, e -> assertThat(e.id()).isEqualTo(grace.id()));
  }

  /** What the stage failed with; the in-memory storage completes it before get returns. */
  private static Throwable failureOf(CompletionStage<User> stage) {
    var future = stage.toCompletableFuture();
    assertThat(future).isCompletedExceptionally();
    var failure = future.exceptionNow();
    return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
  }
}
