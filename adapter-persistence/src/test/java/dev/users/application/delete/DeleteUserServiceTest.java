package dev.users.application.delete;

import static dev.users.application.UseCaseFixture.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.adapter.persistence.Concurrently;
import dev.users.adapter.persistence.Concurrently.Outcome;
import dev.users.application.UseCaseFixture;
import dev.users.application.update.UpdateUserCommand;
import dev.users.application.update.UpdateUserService;
import dev.users.domain.Etag;
import dev.users.domain.User;
import dev.users.domain.UserNotFoundException;
import dev.users.domain.VersionConflictException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** Runs on {@link UseCaseFixture}; see there why it lives in adapter-persistence. */
class DeleteUserServiceTest {

  private final UseCaseFixture fixture = new UseCaseFixture();
  private final DeleteUser delete = new DeleteUserService(fixture.users());
  private final User ada = fixture.registered("ada@example.org", "Ada");

  @Test
  void deletesTheUser() {
    var grace = fixture.registered("grace@example.org", "Grace");

    delete.delete(ADMIN, DeleteUserCommand.of(ada.id().toString(), ""));

    assertThat(fixture.users().findById(ada.id())).isEmpty();
    assertThat(fixture.users().listFirst(10)).containsExactly(grace);
  }

  @Test
  void deletesWhenTheEtagIsCurrent() {
    delete.delete(ADMIN, DeleteUserCommand.of(ada.id().toString(), ada.etag().toString()));

    assertThat(fixture.users().findById(ada.id())).isEmpty();
  }

  @Test
  void refusesAStaleEtagAndKeepsTheUser() {
    var stale = new Etag(ada.version() + 1).toString();

    assertThatThrownBy(() -> delete.delete(ADMIN, DeleteUserCommand.of(ada.id().toString(), stale)))
        .isInstanceOfSatisfying(VersionConflictException.class, e -> assertThat(e.id()).isEqualTo(ada.id()));
    assertThat(fixture.users().findById(ada.id())).contains(ada);
  }

  @Test
  void deletesWithoutAnEtagWhileOthersKeepUpdatingTheUser() throws Exception {
    var update = new UpdateUserService(fixture.users(), fixture.clock());
    var rename = UpdateUserCommand.of(ada.id().toString(), "", "", "Countess", List.of("display_name"));
    var updatesUnderWay = new CountDownLatch(100);
    var tasks = new ArrayList<Callable<Outcome<?>>>();
    tasks.add(() -> {
      updatesUnderWay.await();
      return Outcome.ofAction(() -> delete.delete(ADMIN, DeleteUserCommand.of(ada.id().toString(), "")));
    });
    for (int updater = 0; updater < 8; updater++) {
      tasks.add(() -> Outcome.ofAction(() -> {
        // Until the user is gone, within a bound, so that the delete meets updates in flight.
        for (int n = 0; n < 100_000; n++) {
          update.update(ADMIN, rename);
          updatesUnderWay.countDown();
        }
      }));
    }

    var outcomes = Concurrently.run(tasks);

    Concurrently.countAndPrint(outcomes);
    assertThat(outcomes.getFirst().kind()).as("the delete").isEqualTo("done");
    assertThat(outcomes.subList(1, outcomes.size())).extracting(Outcome::kind)
        .as("the updates, which keep going until the user is gone")
        .containsOnly("UserNotFoundException");
    assertThat(fixture.users().findById(ada.id())).isEmpty();
  }

  @Test
  void reportsAnUnknownUserAsNotFound() {
    var unknown = UseCaseFixture.nthId(99);

    assertThatThrownBy(() -> delete.delete(ADMIN, DeleteUserCommand.of(unknown.toString(), "")))
        .isInstanceOfSatisfying(UserNotFoundException.class, e -> assertThat(e.id()).isEqualTo(unknown));
  }
}
