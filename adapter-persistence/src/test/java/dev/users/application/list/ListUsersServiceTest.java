package dev.users.application.list;

import static dev.users.application.UseCaseFixture.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.users.application.UseCaseFixture;
import dev.users.domain.User;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Runs on {@link UseCaseFixture}; see there why it lives in adapter-persistence. */
class ListUsersServiceTest {

  private final UseCaseFixture fixture = new UseCaseFixture();
  private final ListUsers list = new ListUsersService(fixture.users());

  @Test
  void listsUsersInIdOrderOnePageAtATime() {
    var users = registerSome(5);

    var first = list.list(ADMIN, new ListUsersQuery(Optional.empty(), 2));
    var second = list.list(ADMIN, new ListUsersQuery(first.lastId(), 2));
    var third = list.list(ADMIN, new ListUsersQuery(second.lastId(), 2));

    assertThat(first.users()).containsExactlyElementsOf(users.subList(0, 2));
    assertThat(first.hasMore()).isTrue();
    assertThat(second.users()).containsExactlyElementsOf(users.subList(2, 4));
    assertThat(second.hasMore()).isTrue();
    assertThat(third.users()).containsExactlyElementsOf(users.subList(4, 5));
    assertThat(third.hasMore()).isFalse();
  }

  @Test
  void aFullPageEndingTheDirectoryKnowsNothingFollows() {
    var users = registerSome(2);

    var full = list.list(ADMIN, new ListUsersQuery(Optional.empty(), 2));
    var after = list.list(ADMIN, new ListUsersQuery(full.lastId(), 2));

    assertThat(full.users()).containsExactlyElementsOf(users);
    assertThat(full.hasMore()).isFalse();
    assertThat(after.users()).isEmpty();
    assertThat(after.hasMore()).isFalse();
    assertThat(after.lastId()).isEmpty();
  }

  @Test
  void showsUsersRegisteredBetweenPagesInLaterPages() {
    var early = registerSome(2);
    var first = list.list(ADMIN, new ListUsersQuery(Optional.empty(), 2));
    var late = fixture.registered("late@example.org", "Late");

    var next = list.list(ADMIN, new ListUsersQuery(first.lastId(), 2));

    assertThat(first.users()).containsExactlyElementsOf(early);
    assertThat(next.users()).containsExactly(late);
  }

  @Test
  void listsAnEmptyDirectoryAsOneEmptyPage() {
    var page = list.list(ADMIN, new ListUsersQuery(Optional.empty(), 10));

    assertThat(page.users()).isEmpty();
    assertThat(page.hasMore()).isFalse();
  }

  private List<User> registerSome(int count) {
    return IntStream.rangeClosed(1, count)
        .mapToObj(i -> fixture.registered("user" + i + "@example.org", "User " + i))
        .toList();
  }
}
