package dev.users.application.delete;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.application.UseCaseFixture;
import dev.users.domain.Etag;
import dev.users.domain.User;
import dev.users.domain.UserNotFoundException;
import dev.users.domain.VersionConflictException;
import org.junit.jupiter.api.Test;

/** Runs on {@link UseCaseFixture}; see there why it lives in adapter-persistence. */
class DeleteUserServiceTest {

  private final UseCaseFixture fixture = new UseCaseFixture();
  private final DeleteUser delete = new DeleteUserService(fixture.users());
  private final User ada = fixture.registered("ada@example.org", "Ada");

  @Test
  void deletesTheUser() {
    var grace = fixture.registered("grace@example.org", "Grace");

    delete.delete(DeleteUserCommand.of(ada.id().toString(), ""));

    assertThat(fixture.users().findById(ada.id())).isEmpty();
    assertThat(fixture.users().listFirst(10)).containsExactly(grace);
  }

  @Test
  void deletesWhenTheEtagIsCurrent() {
    delete.delete(DeleteUserCommand.of(ada.id().toString(), ada.etag().toString()));

    assertThat(fixture.users().findById(ada.id())).isEmpty();
  }

  @Test
  void refusesAStaleEtagAndKeepsTheUser() {
    var stale = new Etag(ada.version() + 1).toString();

    assertThatThrownBy(() -> delete.delete(DeleteUserCommand.of(ada.id().toString(), stale)))
        .isInstanceOfSatisfying(VersionConflictException.class, e -> assertThat(e.id()).isEqualTo(ada.id()));
    assertThat(fixture.users().findById(ada.id())).contains(ada);
  }

  @Test
  void reportsAnUnknownUserAsNotFound() {
    var unknown = UseCaseFixture.nthId(99);

    assertThatThrownBy(() -> delete.delete(DeleteUserCommand.of(unknown.toString(), "")))
        .isInstanceOfSatisfying(UserNotFoundException.class, e -> assertThat(e.id()).isEqualTo(unknown));
  }
}
