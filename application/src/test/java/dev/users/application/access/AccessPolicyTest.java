package dev.users.application.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.domain.UserId;
import dev.users.domain.UserNotFoundException;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class AccessPolicyTest {

  private static final UserId ADA = new UserId(UUID.fromString("0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8b"));
  private static final UserId GRACE = new UserId(UUID.fromString("0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8c"));

  private static final Caller ADMIN = new Caller("ops", Set.of(Caller.ADMIN));
  private static final Caller READER = new Caller("reporting", Set.of(Caller.READ));
  private static final Caller WRITER = new Caller("signup", Set.of(Caller.WRITE));
  private static final Caller ADA_HERSELF = new Caller(ADA.toString(), Set.of());

  @Test
  void anAdministratorMayDoEverything() {
    assertThatCode(() -> {
      AccessPolicy.mayRegister(ADMIN);
      AccessPolicy.mayList(ADMIN);
      AccessPolicy.mayDelete(ADMIN);
      AccessPolicy.mayImport(ADMIN);
      AccessPolicy.mayRead(ADMIN, GRACE);
      AccessPolicy.mayUpdate(ADMIN, GRACE, true);
    }).doesNotThrowAnyException();
  }

  @Test
  void theReadScopeReadsAnyUserButChangesNothing() {
    assertThatCode(() -> {
      AccessPolicy.mayList(READER);
      AccessPolicy.mayRead(READER, GRACE);
    }).doesNotThrowAnyException();
    assertThatThrownBy(() -> AccessPolicy.mayRegister(READER)).isInstanceOf(PermissionDeniedException.class);
    assertThatThrownBy(() -> AccessPolicy.mayDelete(READER)).isInstanceOf(PermissionDeniedException.class);
    assertThatThrownBy(() -> AccessPolicy.mayImport(READER)).isInstanceOf(PermissionDeniedException.class);
  }

  @Test
  void theWriteScopeChangesAnyUserButNeitherListsNorImports() {
    assertThatCode(() -> {
      AccessPolicy.mayRegister(WRITER);
      AccessPolicy.mayDelete(WRITER);
      AccessPolicy.mayUpdate(WRITER, GRACE, true);
    }).doesNotThrowAnyException();
    assertThatThrownBy(() -> AccessPolicy.mayList(WRITER)).isInstanceOf(PermissionDeniedException.class);
    assertThatThrownBy(() -> AccessPolicy.mayImport(WRITER)).isInstanceOf(PermissionDeniedException.class);
  }

  @Test
  void importingNeedsTheAdministratorScopeEvenWithReadAndWrite() {
    var both = new Caller("etl", Set.of(Caller.READ, Caller.WRITE));

    assertThatThrownBy(() -> AccessPolicy.mayImport(both))
        .isInstanceOf(PermissionDeniedException.class)
        .hasMessage("ImportUsers needs scope users.admin");
  }

  @Test
  void aUserWithoutScopesReadsAndRenamesThemselves() {
    assertThatCode(() -> {
      AccessPolicy.mayRead(ADA_HERSELF, ADA);
      AccessPolicy.mayUpdate(ADA_HERSELF, ADA, false);
    }).doesNotThrowAnyException();
  }

  @Test
  void aSubjectInUpperCaseIsStillTheUserThemselves() {
    var shouting = new Caller(ADA.toString().toUpperCase(Locale.ROOT), Set.of());

    assertThatCode(() -> AccessPolicy.mayRead(shouting, ADA)).doesNotThrowAnyException();
  }

  @Test
  void aUserWithoutScopesMayNotChangeTheirOwnEmail() {
    assertThatThrownBy(() -> AccessPolicy.mayUpdate(ADA_HERSELF, ADA, true))
        .isInstanceOf(PermissionDeniedException.class);
  }

  @Test
  void anotherUserLooksAbsentToAUserWithoutScopes() {
    assertThatThrownBy(() -> AccessPolicy.mayRead(ADA_HERSELF, GRACE))
        .isInstanceOfSatisfying(UserNotFoundException.class, e -> assertThat(e.id()).isEqualTo(GRACE));
    assertThatThrownBy(() -> AccessPolicy.mayUpdate(ADA_HERSELF, GRACE, false))
        .isInstanceOf(UserNotFoundException.class);
    // Even when the email would change: the answer must not depend on whether the user is theirs.
    assertThatThrownBy(() -> AccessPolicy.mayUpdate(ADA_HERSELF, GRACE, true))
        .isInstanceOf(UserNotFoundException.class);
  }

  @Test
  void aServiceWithoutTheScopeIsDeniedTheUserOperationsOutright() {
    assertThatThrownBy(() -> AccessPolicy.mayRead(WRITER, GRACE))
        .isInstanceOf(PermissionDeniedException.class)
        .hasMessage("GetUser needs scope users.read or users.admin, or a caller who is the user");
    assertThatThrownBy(() -> AccessPolicy.mayUpdate(READER, GRACE, false))
        .isInstanceOf(PermissionDeniedException.class);
  }

  @Test
  void aUserWithTheWriteScopeOnlyReadsThemselves() {
    var adaWriting = new Caller(ADA.toString(), Set.of(Caller.WRITE));

    assertThatCode(() -> AccessPolicy.mayRead(adaWriting, ADA)).doesNotThrowAnyException();
    assertThatThrownBy(() -> AccessPolicy.mayRead(adaWriting, GRACE)).isInstanceOf(UserNotFoundException.class);
  }

  @Test
  void aUserWithoutScopesMayNotCreateListDeleteOrImport() {
    assertThatThrownBy(() -> AccessPolicy.mayRegister(ADA_HERSELF)).isInstanceOf(PermissionDeniedException.class);
    assertThatThrownBy(() -> AccessPolicy.mayList(ADA_HERSELF)).isInstanceOf(PermissionDeniedException.class);
    assertThatThrownBy(() -> AccessPolicy.mayDelete(ADA_HERSELF)).isInstanceOf(PermissionDeniedException.class);
    assertThatThrownBy(() -> AccessPolicy.mayImport(ADA_HERSELF)).isInstanceOf(PermissionDeniedException.class);
  }

  @Test
  void theCallerOfAnUnauthenticatedDeploymentIsAnAdministrator() {
    var anyone = Caller.unauthenticatedAdministrator();

    assertThatCode(() -> {
      AccessPolicy.mayImport(anyone);
      AccessPolicy.mayUpdate(anyone, GRACE, true);
    }).doesNotThrowAnyException();
  }
}
