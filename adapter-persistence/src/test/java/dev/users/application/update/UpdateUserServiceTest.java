package dev.users.application.update;

import static dev.users.application.UseCaseFixture.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.adapter.persistence.Concurrently;
import dev.users.adapter.persistence.Concurrently.Outcome;
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
import dev.users.domain.UserNotFoundException;
import dev.users.domain.VersionConflictException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Runs on {@link UseCaseFixture}; see there why it lives in adapter-persistence. */
class UpdateUserServiceTest {

  private final UseCaseFixture fixture = new UseCaseFixture();
  private final UpdateUser update = new UpdateUserService(fixture.users(), fixture.clock());
  private final User ada = fixture.registered("ada@example.org", "Ada");

  @Test
  void changesOnlyTheFieldTheMaskNamesIgnoringTheOthersValues() {
    var updated = update.update(ADMIN,
        UpdateUserCommand.of(ada.id().toString(), "", "not an email", "Countess of Lovelace", List.of("display_name")));

    assertThat(updated.displayName()).isEqualTo(new DisplayName("Countess of Lovelace"));
    assertThat(updated.email()).isEqualTo(ada.email());
  }

  @Test
  void changesOnlyTheEmailWhenTheMaskNamesIt() {
    var updated = update.update(ADMIN,
        UpdateUserCommand.of(ada.id().toString(), "", "countess@example.org", "", List.of("email")));

    assertThat(updated.email()).isEqualTo(new Email("countess@example.org"));
    assertThat(updated.displayName()).isEqualTo(ada.displayName());
  }

  @Test
  void changesEveryMutableFieldWhenTheMaskIsEmpty() {
    var updated = update.update(ADMIN,
        UpdateUserCommand.of(ada.id().toString(), "", "countess@example.org", "Countess", List.of()));

    assertThat(updated.email()).isEqualTo(new Email("countess@example.org"));
    assertThat(updated.displayName()).isEqualTo(new DisplayName("Countess"));
  }

  @Test
  void givesTheUserANewEtagAndUpdateTimeEvenWhenNothingChanges() {
    fixture.advance(Duration.ofMinutes(5));

    var updated = update.update(ADMIN, UpdateUserCommand.of(ada.id().toString(), "", "", "Ada", List.of("display_name")));

    assertThat(updated.etag()).isEqualTo(new Etag(2));
    assertThat(updated.updateTime()).isEqualTo(UseCaseFixture.START.plus(Duration.ofMinutes(5)));
    assertThat(updated.createTime()).isEqualTo(ada.createTime());
    assertThat(fixture.users().findById(ada.id())).contains(updated);
  }

  @Test
  void appliesTheChangeWhenTheEtagIsCurrent() {
    var updated = update.update(ADMIN,
        UpdateUserCommand.of(ada.id().toString(), ada.etag().toString(), "", "Countess", List.of("display_name")));

    assertThat(updated.displayName()).isEqualTo(new DisplayName("Countess"));
  }

  @Test
  void refusesAStaleEtagAndKeepsTheUser() {
    var renamed = update.update(ADMIN, UpdateUserCommand.of(ada.id().toString(), "", "", "Countess", List.of("display_name")));

    assertThatThrownBy(() -> update.update(ADMIN,
            UpdateUserCommand.of(ada.id().toString(), ada.etag().toString(), "", "Late", List.of("display_name"))))
        .isInstanceOf(VersionConflictException.class);
    assertThat(fixture.users().findById(ada.id())).contains(renamed);
  }

  @Test
  void appliesEveryOneOfManyConcurrentUpdatesWithoutAnEtag() throws Exception {
    int callers = 30;
    int updatesEach = 3;

    var outcomes = Concurrently.run(IntStream.range(0, callers * updatesEach)
        .mapToObj(n -> (Callable<Outcome<User>>) () -> Outcome.of(() -> update.update(ADMIN,
            UpdateUserCommand.of(ada.id().toString(), "", "", "Ada " + n, List.of("display_name")))))
        .toList());

    Concurrently.countAndPrint(outcomes);
    assertThat(outcomes).extracting(Outcome::kind).containsOnly("done");
    assertThat(fixture.users().findById(ada.id()))
        .hasValueSatisfying(stored -> assertThat(stored.etag()).isEqualTo(new Etag(1 + callers * updatesEach)));
  }

  @Test
  void letsOnlyOneOfManyConcurrentUpdatesWithTheSameEtagWin() throws Exception {
    int callers = 30;

    var outcomes = Concurrently.run(IntStream.range(0, callers)
        .mapToObj(n -> (Callable<Outcome<User>>) () -> Outcome.of(() -> update.update(ADMIN,
            UpdateUserCommand.of(ada.id().toString(), ada.etag().toString(), "", "Ada " + n, List.of("display_name")))))
        .toList());

    assertThat(Concurrently.countAndPrint(outcomes))
        .containsExactlyInAnyOrderEntriesOf(Map.of("done", 1L, "VersionConflictException", callers - 1L));
  }

  @Test
  void reportsUnknownAndImmutableMaskPathsUnderUpdateMask() {
    assertThatThrownBy(() -> UpdateUserCommand.of(
            ada.id().toString(), "", "", "Ada", List.of("display_name", "nickname", "create_time")))
        .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.violations())
            .extracting(FieldViolation::field)
            .containsExactly("update_mask", "update_mask"));
  }

  @Test
  void refusesAnEmailTakenByAnotherUserIgnoringCase() {
    var grace = fixture.registered("grace@example.org", "Grace");

    assertThatThrownBy(() -> update.update(ADMIN,
            UpdateUserCommand.of(grace.id().toString(), "", "ADA@example.org", "", List.of("email"))))
        .isInstanceOf(EmailAlreadyTakenException.class);
    assertThat(fixture.users().findById(grace.id())).contains(grace);
  }

  @Test
  void reportsAnUnknownUserAsNotFound() {
    var unknown = UseCaseFixture.nthId(99);

    assertThatThrownBy(() -> update.update(ADMIN,
            UpdateUserCommand.of(unknown.toString(), "", "", "Nobody", List.of("display_name"))))
        .isInstanceOfSatisfying(UserNotFoundException.class, e -> assertThat(e.id()).isEqualTo(unknown));
  }

  @Test
  void aUserWithoutScopesRenamesThemselves() {
    var herself = new Caller(ada.id().toString(), Set.of());

    var renamed = update.update(herself,
        UpdateUserCommand.of(ada.id().toString(), "", "", "Countess", List.of("display_name")));

    assertThat(renamed.displayName()).isEqualTo(new DisplayName("Countess"));
  }

  @Test
  void aUserWithoutScopesMayNotChangeTheirEmailAndNothingChanges() {
    var herself = new Caller(ada.id().toString(), Set.of());

    assertThatThrownBy(() -> update.update(herself,
        UpdateUserCommand.of(ada.id().toString(), "", "elsewhere@example.org", "Countess", List.of())))
        .isInstanceOf(PermissionDeniedException.class);
    assertThat(fixture.users().findById(ada.id())).contains(ada);
  }
}
