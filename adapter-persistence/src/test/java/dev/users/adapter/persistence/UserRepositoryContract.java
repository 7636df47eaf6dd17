package dev.users.adapter.persistence;

import static dev.users.adapter.persistence.UserBuilder.CREATED;
import static dev.users.adapter.persistence.UserBuilder.aUser;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.adapter.persistence.Concurrently.Outcome;
import dev.users.application.port.IdempotencyKey;
import dev.users.application.port.UserRepository;
import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.User;
import dev.users.domain.UserId;
import dev.users.domain.UserNotFoundException;
import dev.users.domain.VersionConflictException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link UserRepository}'s contract, run against every implementation: extend it and supply an
 * empty repository. The implementations cannot drift apart while they all pass it.
 */
public abstract class UserRepositoryContract {

  private static final Instant LATER = Instant.parse("2026-02-03T04:05:06.654321Z");

  private UserRepository users;

  /** A repository holding no users, for one test. */
  protected abstract UserRepository emptyRepository();

  @BeforeEach
  final void startEmpty() {
    users = emptyRepository();
  }

  @Test
  void readsBackWhatItStoredToTheMicrosecond() {
    var user = aUser().withEmail("Ada@Example.org").updatedAt(CREATED.plusNanos(1_000)).build();

    var stored = users.add(user);

    assertThat(stored).isEqualTo(user);
    assertThat(users.findById(user.id())).contains(user);
  }

  @Test
  void storesANewUserAtVersionOne() {
    var user = aUser().build();
    var storedBefore = User.reconstitute(
        user.id(), user.email(), user.displayName(), user.createTime(), user.updateTime(), 5);

    assertThat(users.add(storedBefore).version()).isEqualTo(1);
    assertThat(users.findById(user.id())).hasValueSatisfying(found -> assertThat(found.version()).isEqualTo(1));
  }

  @Test
  void findsEachUserLookedUpConcurrentlyAndNothingForUnknownIds() throws Exception {
    var stored = IntStream.range(0, 40)
        .mapToObj(i -> users.add(aUser().withEmail("reader-" + i + "@example.org").build()))
        .toList();
    var unknown = IntStream.range(0, 8).mapToObj(i -> aUser().build().id()).toList();
    var lookups = new ArrayList<Callable<Object>>();
    for (int round = 0; round < 3; round++) {
      stored.forEach(user -> lookups.add(() -> users.findById(user.id()).orElseThrow().equals(user)));
      unknown.forEach(id -> lookups.add(() -> users.findById(id).isEmpty()));
    }

    assertThat(Concurrently.run(lookups)).containsOnly(true);
  }

  @Test
  void findsEachUserLookedUpAsynchronouslyFromManyThreadsAndNothingForUnknownIds() throws Exception {
    var stored = IntStream.range(0, 40)
        .mapToObj(i -> users.add(aUser().withEmail("async-reader-" + i + "@example.org").build()))
        .toList();
    var unknown = IntStream.range(0, 8).mapToObj(i -> aUser().build().id()).toList();
    var lookups = new ArrayList<Callable<Object>>();
    for (int round = 0; round < 3; round++) {
      // Each thread starts its lookups and only then waits: many are pending at once.
      lookups.add(() -> {
        var pending = stored.stream().map(user -> users.findByIdAsync(user.id()).toCompletableFuture()).toList();
        var missing = unknown.stream().map(id -> users.findByIdAsync(id).toCompletableFuture()).toList();
        for (int i = 0; i < stored.size(); i++) {
          if (!pending.get(i).get(10, TimeUnit.SECONDS).orElseThrow().equals(stored.get(i))) {
            return false;
          }
        }
        for (var lookup : missing) {
          if (lookup.get(10, TimeUnit.SECONDS).isPresent()) {
            return false;
          }
        }
        return true;
      });
    }

    assertThat(Concurrently.run(lookups)).containsOnly(true);
  }

  @Test
  void findsNothingForAnUnknownId() {
    users.add(aUser().build());

    assertThat(users.findById(aUser().build().id())).isEmpty();
  }

  @Test
  void refusesAnEmailTakenByAnotherUserIgnoringCase() {
    users.add(aUser().withEmail("ada@example.org").build());
    var second = aUser().withEmail("ADA@Example.ORG").build();

    assertThatThrownBy(() -> users.add(second))
        .isInstanceOfSatisfying(EmailAlreadyTakenException.class,
            e -> assertThat(e.email()).isEqualTo(new Email("ADA@Example.ORG")));
    assertThat(users.findById(second.id())).isEmpty();
  }

  @Test
  void comparesEmailsIgnoringCaseBeyondAscii() {
    users.add(aUser().withEmail("émile@exämple.org").build());

    assertThatThrownBy(() -> users.add(aUser().withEmail("ÉMILE@EXÄMPLE.ORG").build()))
        .isInstanceOf(EmailAlreadyTakenException.class);
  }

  @Test
  void refusesATakenEmailAlsoWithAnIdempotencyKey() {
    users.add(aUser().withEmail("ada@example.org").build());

    assertThatThrownBy(() -> users.add(aUser().withEmail("Ada@example.org").build(), new IdempotencyKey("create-1")))
        .isInstanceOf(EmailAlreadyTakenException.class);
  }

  @Test
  void returnsTheFirstUserWhenAnIdempotencyKeyIsRepeated() {
    var first = users.add(aUser().withEmail("ada@example.org").build(), new IdempotencyKey("create-1"));
    var retry = aUser().withEmail("grace@example.org").build();

    assertThat(users.add(retry, new IdempotencyKey("create-1"))).isEqualTo(first);
    assertThat(users.findById(retry.id())).isEmpty();
    assertThat(users.listFirst(10)).containsExactly(first);
  }

  @Test
  void storesOneUserPerIdempotencyKey() {
    var first = users.add(aUser().build(), new IdempotencyKey("create-1"));
    var second = users.add(aUser().build(), new IdempotencyKey("create-2"));

    assertThat(users.listFirst(10)).containsExactly(first, second);
  }

  @Test
  void freesAnIdempotencyKeyWhenItsUserIsDeleted() {
    var first = users.add(aUser().build(), new IdempotencyKey("create-1"));
    users.delete(first.id(), user -> {});
    var next = aUser().build();

    assertThat(users.add(next, new IdempotencyKey("create-1"))).isEqualTo(next);
  }

  @Test
  void storesAChangeWithTheNextVersion() {
    var user = users.add(aUser().withDisplayName("Ada").build());

    var updated = users.update(user.id(), renameTo("Countess of Lovelace"));

    assertThat(updated.version()).isEqualTo(2);
    assertThat(updated.displayName()).isEqualTo(new DisplayName("Countess of Lovelace"));
    assertThat(updated.updateTime()).isEqualTo(LATER);
    assertThat(updated.createTime()).isEqualTo(user.createTime());
    assertThat(users.findById(user.id())).contains(updated);
  }

  @Test
  void incrementsTheVersionWithEveryUpdate() {
    var user = users.add(aUser().build());

    users.update(user.id(), renameTo("One"));
    users.update(user.id(), renameTo("Two"));
    var third = users.update(user.id(), renameTo("Three"));

    assertThat(third.version()).isEqualTo(4);
  }

  @Test
  void givesTheChangeTheUserAsStored() {
    var user = users.add(aUser().build());
    var seen = new ArrayList<User>();

    users.update(user.id(), current -> {
      seen.add(current);
      return current;
    });

    assertThat(seen).containsExactly(user);
  }

  @Test
  void refusesAnUpdateToAnEmailTakenByAnotherUserIgnoringCase() {
    users.add(aUser().withEmail("ada@example.org").build());
    var grace = users.add(aUser().withEmail("grace@example.org").build());

    assertThatThrownBy(() -> users.update(grace.id(), changeEmailTo("ADA@example.org")))
        .isInstanceOfSatisfying(EmailAlreadyTakenException.class,
            e -> assertThat(e.email()).isEqualTo(new Email("ADA@example.org")));
    assertThat(users.findById(grace.id())).contains(grace);
  }

  @Test
  void letsAUserChangeTheCaseOfItsOwnEmail() {
    var ada = users.add(aUser().withEmail("ada@example.org").build());

    var updated = users.update(ada.id(), changeEmailTo("Ada@Example.org"));

    assertThat(updated.email()).isEqualTo(new Email("Ada@Example.org"));
  }

  @Test
  void releasesTheOldEmailWhenAUserChangesIt() {
    var ada = users.add(aUser().withEmail("ada@example.org").build());
    users.update(ada.id(), changeEmailTo("countess@example.org"));

    var newcomer = users.add(aUser().withEmail("ada@example.org").build());

    assertThat(newcomer.email()).isEqualTo(new Email("ada@example.org"));
  }

  @Test
  void refusesToUpdateAnUnknownUserWithoutCallingTheChange() {
    var unknown = aUser().build().id();

    assertThatThrownBy(() -> users.update(unknown, user -> {
          throw new AssertionError("the change must not run");
        }))
        .isInstanceOfSatisfying(UserNotFoundException.class, e -> assertThat(e.id()).isEqualTo(unknown));
  }

  @Test
  void reappliesTheChangeToTheUserAsAConcurrentWriteLeftIt() {
    var user = users.add(aUser().build());
    var seen = new ArrayList<User>();

    var updated = users.update(user.id(), current -> {
      seen.add(current);
      if (seen.size() == 1) {
        users.update(user.id(), renameTo("Concurrent"));
      }
      return current.rename(new DisplayName(current.displayName().value() + ", then Late"), LATER);
    });

    assertThat(seen).extracting(User::version).containsExactly(1L, 2L);
    assertThat(updated.displayName()).isEqualTo(new DisplayName("Concurrent, then Late"));
    assertThat(updated.version()).isEqualTo(3);
    assertThat(users.findById(user.id())).contains(updated);
  }

  @Test
  void refusesAnUpdateWhoseEtagCheckFailsOnTheUserAConcurrentWriteLeft() {
    var user = users.add(aUser().build());
    var attempts = new AtomicInteger();

    assertThatThrownBy(() -> users.update(user.id(), current -> {
          if (attempts.incrementAndGet() == 1) {
            users.update(user.id(), renameTo("Concurrent"));
          }
          current.requireEtag(user.etag());
          return current.rename(new DisplayName("Late"), LATER);
        }))
        .isInstanceOfSatisfying(VersionConflictException.class, e -> assertThat(e.id()).isEqualTo(user.id()));
    assertThat(users.findById(user.id())).hasValueSatisfying(stored -> {
      assertThat(stored.displayName()).isEqualTo(new DisplayName("Concurrent"));
      assertThat(stored.version()).isEqualTo(2);
    });
  }

  @Test
  void storesTheChangeEvenWhenItLosesEveryRaceItCanLose() throws Exception {
    var user = users.add(aUser().build());
    var attempts = new AtomicInteger();

    // Each attempt lets another writer in while the change runs; the repository must still store
    // the change in the end, however many attempts it allows before it stops letting others in.
    User updated;
    try (var rival = Executors.newSingleThreadExecutor()) {
      updated = users.update(user.id(), current -> {
        attempts.incrementAndGet();
        var rivalWrite = rival.submit(() -> users.update(user.id(), renameTo("Rival")));
        try {
          rivalWrite.get(200, TimeUnit.MILLISECONDS);
        } catch (TimeoutException stillWaiting) {
          // The rival waits for this update to be stored: it can no longer overtake it.
        } catch (InterruptedException | ExecutionException e) {
          throw new IllegalStateException(e);
        }
        return current.rename(new DisplayName("Mine"), LATER);
      });
    }

    System.out.println("change ran " + attempts.get() + " times before it was stored");
    assertThat(attempts.get()).isGreaterThan(1);
    assertThat(updated.displayName()).isEqualTo(new DisplayName("Mine"));
    assertThat(users.findById(user.id())).hasValueSatisfying(
        stored -> assertThat(stored.version()).isGreaterThanOrEqualTo(updated.version()));
  }

  @Test
  void reportsNotFoundWhenTheUserWasDeletedWhileTheChangeWasComputed() {
    var user = users.add(aUser().build());

    assertThatThrownBy(() -> users.update(user.id(), current -> {
          users.delete(user.id(), stored -> {});
          return current.rename(new DisplayName("Late"), LATER);
        }))
        .isInstanceOf(UserNotFoundException.class);
    assertThat(users.findById(user.id())).isEmpty();
  }

  @Test
  void propagatesTheChangesOwnFailureAndStoresNothing() {
    var user = users.add(aUser().build());
    var refusal = new IllegalStateException("refused by the change");

    assertThatThrownBy(() -> users.update(user.id(), current -> {
          throw refusal;
        }))
        .isSameAs(refusal);
    assertThat(users.findById(user.id())).contains(user);
  }

  @Test
  void appliesEveryOneOfManyConcurrentUpdatesToTheUserAsTheOthersLeftIt() throws Exception {
    var user = users.add(aUser().withDisplayName("-").build());
    var writers = "abcdefgh";

    Concurrently.run(writers.chars().mapToObj(letter -> (Callable<User>) () -> users.update(user.id(), current ->
        current.rename(new DisplayName(current.displayName().value() + (char) letter), LATER))).toList());

    var stored = users.findById(user.id()).orElseThrow();
    assertThat(stored.version()).isEqualTo(1 + writers.length());
    assertThat(stored.displayName().value().chars().sorted().skip(1))
        .as("no update was lost")
        .containsExactlyElementsOf(writers.chars().boxed().toList());
  }

  @Test
  void storesEveryOneOfManyConcurrentUnconditionalUpdatesAsItsOwnVersionWithoutConflict() throws Exception {
    var user = users.add(aUser().build());
    int writers = 30;
    int updatesEach = 3;

    var results = Concurrently.run(IntStream.range(0, writers).mapToObj(writer -> (Callable<List<Outcome<User>>>) () ->
        IntStream.range(0, updatesEach)
            .mapToObj(n -> Outcome.of(() -> users.update(user.id(), takingAMoment(renameTo("writer " + writer + " update " + n)))))
            .toList()).toList());

    var outcomes = results.stream().flatMap(List::stream).toList();
    Concurrently.countAndPrint(outcomes);
    assertThat(outcomes).extracting(Outcome::kind).containsOnly("done");
    var written = outcomes.stream().map(Outcome::value).toList();
    assertThat(written).extracting(User::version)
        .as("each update stored as a version of its own")
        .containsExactlyInAnyOrderElementsOf(LongStream.rangeClosed(2, 1 + writers * updatesEach).boxed().toList());
    var last = written.stream().max(Comparator.comparingLong(User::version)).orElseThrow();
    assertThat(users.findById(user.id())).contains(last);
  }

  @Test
  void deletesOnceAmongConcurrentUnconditionalUpdatesAndDeletesWithoutConflict() throws Exception {
    var user = users.add(aUser().build());
    int deleters = 4;
    int updaters = 12;
    var updatesUnderWay = new CountDownLatch(50);

    var tasks = new ArrayList<Callable<Outcome<?>>>();
    for (int deleter = 0; deleter < deleters; deleter++) {
      tasks.add(() -> {
        updatesUnderWay.await();
        return Outcome.ofAction(() -> users.delete(user.id(), current -> Thread.yield()));
      });
    }
    for (int updater = 0; updater < updaters; updater++) {
      var name = "updater " + updater;
      tasks.add(() -> Outcome.ofAction(() -> {
        // Until the user is gone, within a bound, so that the deletes meet updates in flight.
        for (int n = 0; n < 100_000; n++) {
          users.update(user.id(), takingAMoment(renameTo(name)));
          updatesUnderWay.countDown();
        }
      }));
    }
    var outcomes = Concurrently.run(tasks);

    Concurrently.countAndPrint(outcomes);
    assertThat(outcomes.subList(0, deleters)).extracting(Outcome::kind)
        .as("deletes: one deletes, the others find nothing")
        .containsOnlyOnce("done")
        .containsOnly("done", "UserNotFoundException");
    assertThat(outcomes.subList(deleters, deleters + updaters)).extracting(Outcome::kind)
        .as("updates, which keep going until the user is gone")
        .containsOnly("UserNotFoundException");
    assertThat(users.findById(user.id())).isEmpty();
  }

  @Test
  void deletesAUser() {
    var user = users.add(aUser().build());
    var other = users.add(aUser().build());

    users.delete(user.id(), current -> assertThat(current).isEqualTo(user));

    assertThat(users.findById(user.id())).isEmpty();
    assertThat(users.listFirst(10)).containsExactly(other);
  }

  @Test
  void releasesTheEmailOfADeletedUser() {
    var user = users.add(aUser().withEmail("ada@example.org").build());
    users.delete(user.id(), current -> {});

    assertThat(users.add(aUser().withEmail("ADA@example.org").build()).email())
        .isEqualTo(new Email("ADA@example.org"));
  }

  @Test
  void refusesToDeleteAnUnknownUser() {
    var unknown = aUser().build().id();

    assertThatThrownBy(() -> users.delete(unknown, user -> {}))
        .isInstanceOfSatisfying(UserNotFoundException.class, e -> assertThat(e.id()).isEqualTo(unknown));
  }

  @Test
  void deletesTheUserAsAConcurrentWriteLeftIt() {
    var user = users.add(aUser().build());
    var seen = new ArrayList<User>();

    users.delete(user.id(), current -> {
      seen.add(current);
      if (seen.size() == 1) {
        users.update(user.id(), renameTo("Concurrent"));
      }
    });

    assertThat(seen).extracting(User::version).containsExactly(1L, 2L);
    assertThat(users.findById(user.id())).isEmpty();
  }

  @Test
  void refusesADeleteWhosePreconditionFailsOnTheUserAConcurrentWriteLeft() {
    var user = users.add(aUser().build());
    var attempts = new AtomicInteger();

    assertThatThrownBy(() -> users.delete(user.id(), current -> {
          if (attempts.incrementAndGet() == 1) {
            users.update(user.id(), renameTo("Concurrent"));
          }
          current.requireEtag(user.etag());
        }))
        .isInstanceOf(VersionConflictException.class);
    assertThat(users.findById(user.id())).hasValueSatisfying(stored -> assertThat(stored.version()).isEqualTo(2));
  }

  @Test
  void reportsNotFoundWhenAnotherDeleteCameFirst() {
    var user = users.add(aUser().build());

    assertThatThrownBy(() -> users.delete(user.id(), current -> users.delete(user.id(), stored -> {})))
        .isInstanceOfSatisfying(UserNotFoundException.class, e -> assertThat(e.id()).isEqualTo(user.id()));
  }

  @Test
  void keepsTheUserWhenThePreconditionRefuses() {
    var user = users.add(aUser().build());
    var refusal = new VersionConflictException(user.id());

    assertThatThrownBy(() -> users.delete(user.id(), current -> {
          throw refusal;
        }))
        .isSameAs(refusal);
    assertThat(users.findById(user.id())).contains(user);
  }

  @Test
  void listsUsersInUnsignedIdOrder() {
    var ids = List.of(
        "ffffffff-ffff-7fff-bfff-ffffffffffff",
        "00000000-0000-7000-8000-000000000000",
        "80000000-0000-7000-8000-000000000000",
        "7fffffff-ffff-7fff-bfff-ffffffffffff",
        "00000000-0000-7000-0000-000000000001");
    ids.forEach(id -> users.add(aUser().withId(id).build()));

    assertThat(users.listFirst(10)).extracting(user -> user.id().toString()).containsExactly(
        "00000000-0000-7000-0000-000000000001",
        "00000000-0000-7000-8000-000000000000",
        "7fffffff-ffff-7fff-bfff-ffffffffffff",
        "80000000-0000-7000-8000-000000000000",
        "ffffffff-ffff-7fff-bfff-ffffffffffff");
  }

  @Test
  void resumesAfterAnIdWhoseHighBitIsSet() {
    users.add(aUser().withId("ffffffff-ffff-7fff-bfff-ffffffffffff").build());
    users.add(aUser().withId("80000000-0000-7000-8000-000000000000").build());
    users.add(aUser().withId("7fffffff-ffff-7fff-bfff-ffffffffffff").build());

    assertThat(users.listAfter(UserId.parse("80000000-0000-7000-8000-000000000000"), 10))
        .extracting(user -> user.id().toString())
        .containsExactly("ffffffff-ffff-7fff-bfff-ffffffffffff");
    assertThat(users.listAfter(UserId.parse("7fffffff-ffff-7fff-bfff-ffffffffffff"), 1))
        .extracting(user -> user.id().toString())
        .containsExactly("80000000-0000-7000-8000-000000000000");
  }

  @Test
  void resumesAfterAnIdThatIsNotStored() {
    users.add(aUser().withId("00000000-0000-7000-8000-000000000001").build());
    users.add(aUser().withId("00000000-0000-7000-8000-000000000003").build());

    assertThat(users.listAfter(UserId.parse("00000000-0000-7000-8000-000000000002"), 10))
        .extracting(user -> user.id().toString())
        .containsExactly("00000000-0000-7000-8000-000000000003");
  }

  @Test
  void pagesThroughEveryUserOnceInIdOrder() {
    var stored = IntStream.range(0, 7).mapToObj(i -> users.add(aUser().build())).toList();

    var first = users.listFirst(3);
    var second = users.listAfter(first.getLast().id(), 3);
    var third = users.listAfter(second.getLast().id(), 3);

    assertThat(first).containsExactlyElementsOf(stored.subList(0, 3));
    assertThat(second).containsExactlyElementsOf(stored.subList(3, 6));
    assertThat(third).containsExactlyElementsOf(stored.subList(6, 7));
    assertThat(users.listAfter(third.getLast().id(), 3)).isEmpty();
  }

  @Test
  void listsNothingWhenEmpty() {
    assertThat(users.listFirst(10)).isEmpty();
    assertThat(users.listAfter(aUser().build().id(), 10)).isEmpty();
  }

  @Test
  void refusesALimitBelowOne() {
    assertThatThrownBy(() -> users.listFirst(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> users.listAfter(aUser().build().id(), 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void listsWhateverNamesHoldAndTimesBeforeAndAfterTheDatabasesEpoch() {
    var beforeEpoch = Instant.parse("1999-12-31T23:59:59.999999Z");
    var stored = List.of(
        users.add(aUser().withId("00000000-0000-7000-8000-000000000001")
            .withDisplayName("Zoë \\ O'Brien \"Ω\" 😀").createdAt(beforeEpoch).updatedAt(beforeEpoch).build()),
        users.add(aUser().withId("00000000-0000-7000-8000-000000000002")
            .withEmail("ünïcode@example.org").updatedAt(LATER).build()));

    assertThat(users.listFirst(10)).containsExactlyElementsOf(stored);
    assertThat(users.listFirst(10)).extracting(User::version).containsOnly(1L);
  }

  @Test
  void passesUsersAsTheyAreReadAndStopsWhenTheConsumerThrows() {
    var stored = IntStream.range(0, 5).mapToObj(i -> users.add(aUser().build())).toList();
    var refusal = new IllegalStateException("the consumer gave up");
    // More rounds than any pool holds connections: each must have given its connection back.
    for (int round = 0; round < 12; round++) {
      var passed = new ArrayList<User>();

      assertThatThrownBy(() -> users.forEach(Optional.empty(), 10, user -> {
        passed.add(user);
        if (passed.size() == 2) {
          throw refusal;
        }
      })).isSameAs(refusal);

      assertThat(passed).containsExactlyElementsOf(stored.subList(0, 2));
    }
    assertThat(users.listAfter(stored.get(1).id(), 10)).containsExactlyElementsOf(stored.subList(2, 5));
  }

  @Test
  void addsABatchAndReturnsItInTheGivenOrder() {
    var batch = List.of(
        aUser().withId("ffffffff-0000-7000-8000-000000000000").build(),
        aUser().withId("00000000-0000-7000-8000-000000000000").build(),
        aUser().withId("80000000-0000-7000-8000-000000000000").build());

    var stored = users.addAll(batch);

    assertThat(stored).containsExactlyElementsOf(batch);
    assertThat(users.listFirst(10)).containsExactly(batch.get(1), batch.get(2), batch.get(0));
  }

  @Test
  void storesABatchAsGivenWhateverItsNamesHoldAndHowLateItsTimes() {
    var batch = List.of(
        aUser().withDisplayName("Zoë \\ O'Brien \"Ω\" 😀").build(),
        aUser().withEmail("ünïcode@example.org").updatedAt(LATER).build());

    var stored = users.addAll(batch);

    assertThat(stored).containsExactlyElementsOf(batch);
    assertThat(users.findById(batch.get(0).id())).contains(batch.get(0));
    assertThat(users.findById(batch.get(1).id())).contains(batch.get(1));
  }

  @Test
  void leavesOutOfABatchTheUsersWhoseEmailIsTakenIgnoringCase() {
    var ada = users.add(aUser().withEmail("ada@example.org").build());
    var first = aUser().build();
    var taken = aUser().withEmail("ADA@EXAMPLE.ORG").build();
    var last = aUser().build();

    var stored = users.addAll(List.of(first, taken, last));

    assertThat(stored).containsExactly(first, last);
    assertThat(users.findById(taken.id())).isEmpty();
    assertThat(users.findById(ada.id())).contains(ada);
  }

  @Test
  void addsAnEmptyBatch() {
    assertThat(users.addAll(List.of())).isEmpty();
    assertThat(users.listFirst(10)).isEmpty();
  }

  @Test
  void storesExactlyOneOfManyConcurrentAddsOfTheSameEmail() throws Exception {
    var attempts = IntStream.range(0, 8).mapToObj(i -> (Callable<User>) () -> {
      try {
        return users.add(aUser().withEmail("ada@example.org").build());
      } catch (EmailAlreadyTakenException e) {
        return null;
      }
    }).toList();

    var results = Concurrently.run(attempts);

    assertThat(results).filteredOn(Objects::nonNull).hasSize(1);
    assertThat(users.listFirst(10)).hasSize(1);
  }

  @Test
  void storesEachOfManyConcurrentAddsWithItsOwnFieldsAndReturnsItToItsOwnCaller() throws Exception {
    int callers = 64;
    int addsEach = 4;
    var tasks = IntStream.range(0, callers).mapToObj(caller -> (Callable<List<Outcome<User>>>) () ->
        IntStream.range(0, addsEach).mapToObj(n -> {
          var user = aUser()
              .withEmail("Caller-" + caller + "-" + n + "@Example.org")
              .withDisplayName("Caller " + caller + " add " + n)
              .createdAt(CREATED.plusSeconds(caller).plusNanos(n * 1_000L))
              .updatedAt(LATER.plusSeconds(caller).plusNanos(n * 1_000L))
              .build();
          return Outcome.of(() -> {
            var stored = users.add(user);
            if (!stored.equals(user) || stored.version() != 1) {
              throw new AssertionError("given " + user + ", returned " + stored);
            }
            return stored;
          });
        }).toList()).toList();

    var outcomes = Concurrently.run(tasks).stream().flatMap(List::stream).toList();

    Concurrently.countAndPrint(outcomes);
    assertThat(outcomes).extracting(Outcome::kind).containsOnly("done");
    var added = outcomes.stream().map(Outcome::value).toList();
    for (var user : added) {
      assertThat(users.findById(user.id())).contains(user);
    }
    assertThat(users.listFirst(callers * addsEach + 1)).containsExactlyInAnyOrderElementsOf(added);
  }

  @Test
  void storesOneUserPerEmailAmongConcurrentAddsCollidingWithStoredUsersAndWithEachOther() throws Exception {
    storesOneUserPerEmailAmongCollidingAdds(attempts -> Concurrently.run(attempts.stream()
        .map(user -> (Callable<Outcome<User>>) () -> Outcome.of(() -> users.add(user)))
        .toList()));
  }

  @Test
  void storesOneUserPerEmailAmongAsyncAddsCollidingWithStoredUsersAndWithEachOther() throws Exception {
    // One thread starts every add and only then waits: many are pending at once, as from a
    // transport's thread.
    storesOneUserPerEmailAmongCollidingAdds(attempts -> {
      var pending = attempts.stream().map(user -> users.addAsync(user).toCompletableFuture()).toList();
      return pending.stream().map(add -> Outcome.of(() -> {
        try {
          return add.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          throw (RuntimeException) e.getCause();
        } catch (InterruptedException | TimeoutException e) {
          throw new AssertionError(e);
        }
      })).toList();
    });
  }

  /** Rounds of adds, by {@code addEach}, each email by several callers; some emails already stored. */
  private void storesOneUserPerEmailAmongCollidingAdds(AddEach addEach) throws Exception {
    int emails = 16;
    int addsPerEmail = 4;
    for (int round = 0; round < 5; round++) {
      // Every other email is taken before the burst; each email is then added by several callers at
      // once, in cases of their own.
      var existing = new ArrayList<User>();
      for (int e = 0; e < emails; e += 2) {
        existing.add(users.add(aUser().withEmail("round-" + round + "-email-" + e + "@example.org").build()));
      }
      var attempts = new ArrayList<User>();
      for (int e = 0; e < emails; e++) {
        for (int a = 0; a < addsPerEmail; a++) {
          var email = "round-" + round + "-email-" + e + "@example.org";
          attempts.add(aUser().withEmail(a % 2 == 0 ? email : email.toUpperCase()).build());
        }
      }

      var outcomes = addEach.add(attempts);

      Concurrently.countAndPrint(outcomes);
      var winners = new ArrayList<User>();
      for (int e = 0; e < emails; e++) {
        var ofEmail = outcomes.subList(e * addsPerEmail, (e + 1) * addsPerEmail);
        var tried = attempts.subList(e * addsPerEmail, (e + 1) * addsPerEmail);
        assertThat(ofEmail).extracting(Outcome::kind)
            .as("email %d, %s", e, e % 2 == 0 ? "taken before" : "free before")
            .isSubsetOf("done", "EmailAlreadyTakenException")
            .filteredOn("done"::equals)
            .hasSize(e % 2 == 0 ? 0 : 1);
        for (int a = 0; a < addsPerEmail; a++) {
          var outcome = ofEmail.get(a);
          if (outcome.failure() instanceof EmailAlreadyTakenException taken) {
            assertThat(taken.email()).isEqualTo(tried.get(a).email());
            assertThat(users.findById(tried.get(a).id())).isEmpty();
          } else {
            assertThat(outcome.value()).isEqualTo(tried.get(a));
            winners.add(outcome.value());
          }
        }
      }
      for (var user : winners) {
        assertThat(users.findById(user.id())).contains(user);
      }
      for (var user : existing) {
        assertThat(users.findById(user.id())).contains(user);
      }
    }
    assertThat(users.listFirst(1_000)).hasSize(5 * emails);
  }

  /** Adds each of the users given, concurrently, and gives each add's outcome in their order. */
  @FunctionalInterface
  private interface AddEach {

    List<Outcome<User>> add(List<User> attempts) throws Exception;
  }

  @Test
  void addsAsynchronouslyWithAnIdempotencyKeyAsItAddsWithOne() throws Exception {
    var first = users.addAsync(aUser().withEmail("ada@example.org").build(), new IdempotencyKey("create-1"))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    var retry = aUser().withEmail("grace@example.org").build();

    assertThat(users.addAsync(retry, new IdempotencyKey("create-1")).toCompletableFuture().get(10, TimeUnit.SECONDS))
        .isEqualTo(first);
    assertThat(users.addAsync(aUser().withEmail("ADA@example.org").build(), new IdempotencyKey("create-2")))
        .failsWithin(10, TimeUnit.SECONDS)
        .withThrowableThat().havingCause().isInstanceOf(EmailAlreadyTakenException.class);
    assertThat(users.listFirst(10)).containsExactly(first);
  }

  @Test
  void returnsTheSameUserToManyConcurrentAddsWithTheSameIdempotencyKey() throws Exception {
    var attempts = IntStream.range(0, 8)
        .mapToObj(i -> (Callable<User>) () -> users.add(aUser().build(), new IdempotencyKey("create-1")))
        .toList();

    var results = Concurrently.run(attempts);

    assertThat(results).doesNotContainNull().containsOnly(results.getFirst());
    assertThat(users.listFirst(10)).containsExactly(results.getFirst());
  }

  private static UnaryOperator<User> renameTo(String name) {
    return user -> user.rename(new DisplayName(name), LATER);
  }

  /** The change, after a pause long enough to let other threads in, as real work would. */
  private static UnaryOperator<User> takingAMoment(UnaryOperator<User> change) {
    return user -> {
      Thread.yield();
      return change.apply(user);
    };
  }

  private static UnaryOperator<User> changeEmailTo(String email) {
    return user -> user.changeEmail(new Email(email), LATER);
  }
}
