package dev.users.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class UserTest {

  private static final UserId ID = new UserId(UUID.fromString("0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8b"));
  private static final Instant CREATED = Instant.parse("2026-01-02T03:04:05.123456789Z");

  private static User registered() {
    return User.register(ID, new Email("ada@example.org"), new DisplayName("Ada"), CREATED);
  }

  @Test
  void registersAtVersionOneWithBothTimesTruncatedToMicroseconds() {
    var user = registered();

    assertThat(user.version()).isEqualTo(1);
    assertThat(user.etag()).isEqualTo(new Etag(1));
    assertThat(user.createTime()).isEqualTo(Instant.parse("2026-01-02T03:04:05.123456Z"));
    assertThat(user.updateTime()).isEqualTo(user.createTime());
  }

  @Test
  void renameChangesTheNameAndUpdateTimeOnly() {
    var later = CREATED.plusSeconds(60);
    var renamed = registered().rename(new DisplayName("Countess"), later);

    assertThat(renamed.displayName()).isEqualTo(new DisplayName("Countess"));
    assertThat(renamed.email()).isEqualTo(new Email("ada@example.org"));
    assertThat(renamed.createTime()).isEqualTo(registered().createTime());
    assertThat(renamed.updateTime()).isEqualTo(later.truncatedTo(java.time.temporal.ChronoUnit.MICROS));
    assertThat(renamed.version()).as("storage assigns the next version when it writes").isEqualTo(1);
  }

  @Test
  void changeEmailLeavesTheOriginalUntouched() {
    var original = registered();
    var changed = original.changeEmail(new Email("countess@example.org"), CREATED.plusSeconds(1));

    assertThat(changed.email()).isEqualTo(new Email("countess@example.org"));
    assertThat(original.email()).isEqualTo(new Email("ada@example.org"));
  }

  @Test
  void acceptsTheEtagOfItsOwnVersion() {
    var user = User.reconstitute(ID, new Email("ada@example.org"), new DisplayName("Ada"), CREATED, CREATED, 7);
    user.requireEtag(new Etag(7));
    assertThat(user.etag()).isEqualTo(new Etag(7));
  }

  @Test
  void refusesAStaleEtag() {
    var user = User.reconstitute(ID, new Email("ada@example.org"), new DisplayName("Ada"), CREATED, CREATED, 7);

    assertThatThrownBy(() -> user.requireEtag(new Etag(6)))
        .isInstanceOfSatisfying(VersionConflictException.class, e -> assertThat(e.id()).isEqualTo(ID));
  }

  @Test
  void isRebuiltFromValuesStoredUnderOlderRulesAndChangesLikeAnyOther() {
    var stored = User.reconstitute(
        ID, Email.fromStorage("ada@localhost"), DisplayName.fromStorage("A".repeat(150)), CREATED, CREATED, 3);

    var renamed = stored.rename(new DisplayName("Ada"), CREATED.plusSeconds(1));

    assertThat(renamed.email()).isEqualTo(Email.fromStorage("ada@localhost"));
    assertThat(renamed.displayName()).isEqualTo(new DisplayName("Ada"));
    assertThat(renamed.version()).isEqualTo(3);
  }

  @Test
  void cannotBeRebuiltWithAVersionStorageNeverAssigns() {
    assertThatThrownBy(() -> User.reconstitute(ID, new Email("a@b.co"), new DisplayName("A"), CREATED, CREATED, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
