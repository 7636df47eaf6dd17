package dev.users.application.importing;

import static dev.users.application.UseCaseFixture.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.users.application.UseCaseFixture;
import dev.users.domain.Email;
import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.FieldViolation;
import dev.users.domain.InvalidInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs on {@link UseCaseFixture}; see there why it lives in adapter-persistence. */
class ImportUsersServiceTest {

  private final UseCaseFixture fixture = new UseCaseFixture();
  private final ImportUsers importUsers = new ImportUsersService(fixture.users(), fixture.ids(), fixture.clock());

  @Test
  void createsEveryValidItemAtVersionOne() {
    var outcomes = importUsers.importBatch(ADMIN, List.of(
        new ImportItem("ada@example.org", "Ada"), new ImportItem("grace@example.org", "Grace")));

    assertThat(outcomes).allSatisfy(outcome -> assertThat(outcome).isInstanceOfSatisfying(
        ImportOutcome.Created.class, created -> assertThat(created.user().version()).isEqualTo(1)));
    assertThat(fixture.users().listFirst(10))
        .extracting(user -> user.email().value())
        .containsExactly("ada@example.org", "grace@example.org");
  }

  @Test
  void rejectsAnInvalidItemWithEveryViolationAndCreatesTheRest() {
    var outcomes = importUsers.importBatch(ADMIN, List.of(
        new ImportItem("not-an-email", ""), new ImportItem("grace@example.org", "Grace")));

    assertThat(outcomes.getFirst()).isInstanceOfSatisfying(ImportOutcome.Rejected.class, rejected ->
        assertThat(rejected.reason()).isInstanceOfSatisfying(InvalidInputException.class, invalid ->
            assertThat(invalid.violations()).extracting(FieldViolation::field)
                .containsExactly("email", "display_name")));
    assertThat(outcomes.get(1)).isInstanceOf(ImportOutcome.Created.class);
  }

  @Test
  void rejectsAnEmailRepeatedWithinTheBatchIgnoringCase() {
    var outcomes = importUsers.importBatch(ADMIN, List.of(
        new ImportItem("ada@example.org", "Ada"), new ImportItem("ADA@example.org", "Ada again")));

    assertThat(outcomes.getFirst()).isInstanceOf(ImportOutcome.Created.class);
    assertTaken(outcomes.get(1), "ADA@example.org");
    assertThat(fixture.users().listFirst(10)).hasSize(1);
  }

  @Test
  void rejectsAnEmailTakenByAnExistingUserIgnoringCase() {
    fixture.registered("ada@example.org", "Ada");

    var outcomes = importUsers.importBatch(ADMIN, List.of(
        new ImportItem("grace@example.org", "Grace"), new ImportItem("Ada@Example.org", "Ada")));

    assertThat(outcomes.getFirst()).isInstanceOf(ImportOutcome.Created.class);
    assertTaken(outcomes.get(1), "Ada@Example.org");
  }

  @Test
  void reportsOneOutcomePerItemInItemOrder() {
    fixture.registered("taken@example.org", "Taken");

    var outcomes = importUsers.importBatch(ADMIN, List.of(
        new ImportItem("taken@example.org", "Taken again"),
        new ImportItem("bad", "Bad"),
        new ImportItem("new@example.org", "New"),
        new ImportItem("NEW@example.org", "New again")));

    assertThat(outcomes).hasSize(4);
    assertTaken(outcomes.get(0), "taken@example.org");
    assertThat(outcomes.get(1)).isInstanceOfSatisfying(ImportOutcome.Rejected.class,
        rejected -> assertThat(rejected.reason()).isInstanceOf(InvalidInputException.class));
    assertThat(outcomes.get(2)).isInstanceOfSatisfying(ImportOutcome.Created.class,
        created -> assertThat(created.user().email()).isEqualTo(new Email("new@example.org")));
    assertTaken(outcomes.get(3), "NEW@example.org");
  }

  private static void assertTaken(ImportOutcome outcome, String email) {
    assertThat(outcome).isInstanceOfSatisfying(ImportOutcome.Rejected.class, rejected ->
        assertThat(rejected.reason()).isInstanceOfSatisfying(EmailAlreadyTakenException.class,
            taken -> assertThat(taken.email()).isEqualTo(new Email(email))));
  }
}
