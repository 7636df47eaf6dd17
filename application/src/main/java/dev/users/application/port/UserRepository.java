package dev.users.application.port;

import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.User;
import dev.users.domain.UserId;
import dev.users.domain.UserNotFoundException;
import dev.users.domain.VersionConflictException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Where users are kept. Implementations own transactions and uniqueness: each method is atomic,
 * and no two users ever share an email compared ignoring case ({@link
 * dev.users.domain.Email#canonical()}).
 *
 * <p>Every method may throw {@link StorageUnavailableException} when storage cannot be reached in
 * time; nothing was changed then, or the change is as if it had been made in full.
 *
 * <p>Versions: a user is stored with version 1, and every write of a change stores it with its
 * version plus one. The users returned carry the version they now have in storage.
 *
 * <p>{@code UserRepositoryContract}, in the test jar of {@code adapter-persistence}, is the
 * executable form of this contract; every implementation runs it.
 */
public interface UserRepository {

  /**
   * Stores a new user.
   *
   * @throws EmailAlreadyTakenException when another user has the email
   */
  User add(User user);

  /**
   * Stores a new user unless an earlier call already stored one under the same idempotency key, in
   * which case nothing is stored and that earlier user is returned. The idempotency key is kept as long
   * as the user it created exists.
   *
   * @throws EmailAlreadyTakenException when another user has the email
   */
  User add(User user, IdempotencyKey idempotencyKey);

  /**
   * {@link #add(User)} without holding the caller's thread while storage works, for the call of the
   * caller's {@link CallScope} at the time of the call. The stage completes with what {@code add}
   * would return, or exceptionally with what it would throw; it may complete before this returns.
   * Otherwise it completes in a thread of storage's, which runs the stages that depend on it: those
   * must be quick and must not block.
   *
   * <p>This default adds the user in the caller's thread.
   */
  default CompletionStage<User> addAsync(User user) {
    try {
      return CompletableFuture.completedStage(add(user));
    } catch (RuntimeException e) {
      return CompletableFuture.failedStage(e);
    }
  }

  /**
   * {@link #add(User, IdempotencyKey)} as {@link #addAsync(User)} is {@link #add(User)}.
   *
   * <p>This default adds the user in the caller's thread.
   */
  default CompletionStage<User> addAsync(User user, IdempotencyKey idempotencyKey) {
    try {
      return CompletableFuture.completedStage(add(user, idempotencyKey));
    } catch (RuntimeException e) {
      return CompletableFuture.failedStage(e);
    }
  }

  /**
   * Stores those of {@code users} whose email is free, as one batch. The users must have distinct
   * emails.
   *
   * @return the users stored, in the order given; those missing were refused because another user
   *     has their email
   */
  List<User> addAll(List<User> users);

  Optional<User> findById(UserId id);

  /**
   * {@link #findById} without holding the caller's thread while storage works, for the call of
   * the caller's {@link CallScope} at the time of the call. The stage completes with what {@code
   * findById} would return, or exceptionally with what it would throw; it may complete before this
   * returns. Otherwise it completes in a thread of storage's, which runs the stages that depend on
   * it: those must be quick and must not block.
   *
   * <p>This default looks the user up in the caller's thread.
   */
  default CompletionStage<Optional<User>> findByIdAsync(UserId id) {
    try {
      return CompletableFuture.completedStage(findById(id));
    } catch (RuntimeException e) {
      return CompletableFuture.failedStage(e);
    }
  }

  /**
   * Reads a user, applies {@code change} to it and stores the result as the next version of the
   * user it read. When another write of the user came first, the repository reads the user again
   * and applies {@code change} again, to the user as that write left it: a concurrent write is never
   * the caller's failure. So {@code change} may run more than once, each time on a newer user, and
   * must decide from the user it is given alone (an etag check belongs in it); only its last
   * result is stored. Its last run may hold a lock on the user, so it must be quick and must not
   * write users itself. It may throw to abandon the update; its exception propagates, and it is the
   * only source of {@link VersionConflictException}: the repository throws none of its own.
   *
   * @return the user as stored, with its version incremented
   * @throws UserNotFoundException when no user has the id, also when it is deleted before the
   *     change could be stored
   * @throws EmailAlreadyTakenException when the changed email belongs to another user
   */
  User update(UserId id, UnaryOperator<User> change);

  /**
   * Reads a user, lets {@code precondition} inspect it, and deletes it. As in {@link #update}, when
   * another write of the user came first the user is read again and {@code precondition} runs
   * again on it; {@code precondition} may throw to abandon the delete, and the repository throws no
   * {@link VersionConflictException} of its own.
   *
   * @throws UserNotFoundException when no user has the id, also when another delete came first
   */
  void delete(UserId id, Consumer<User> precondition);

  /**
   * Passes up to {@code limit} users in id order to {@code each} as storage yields them, from the
   * first one, or from the first one whose id comes after {@code after}: a long listing costs the
   * memory of a few users, not of all it passes.
   *
   * <p>{@code each} runs while storage is being read, which may hold a database connection: it
   * must be quick, must not wait for anything and must not use the repository. An exception it
   * throws ends the reading, releases what the reading held, and propagates unchanged.
   *
   * @throws IllegalArgumentException when {@code limit} is below one
   */
  void forEach(Optional<UserId> after, int limit, Consumer<? super User> each);

  /** Up to {@code limit} users in id order, from the first one. */
  default List<User> listFirst(int limit) {
    return collect(Optional.empty(), limit);
  }

  /** Up to {@code limit} users in id order, from the first one whose id comes after {@code after}. */
  default List<User> listAfter(UserId after, int limit) {
    return collect(Optional.of(after), limit);
  }

  private List<User> collect(Optional<UserId> after, int limit) {
    var found = new ArrayList<User>(Math.min(Math.max(limit, 0), 1_024));
    forEach(after, limit, found::add);
    return List.copyOf(found);
  }
}
