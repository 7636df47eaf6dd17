package dev.users.application.port;

import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.User;
import dev.users.domain.UserId;
import dev.users.domain.UserNotFoundException;
import dev.users.domain.VersionConflictException;
import java.util.List;
import java.util.Optional;
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
   * Stores those of {@code users} whose email is free, as one batch. The users must have distinct
   * emails.
   *
   * @return the users stored, in the order given; those missing were refused because another user
   *     has their email
   */
  List<User> addAll(List<User> users);

  Optional<User> findById(UserId id);

  /**
   * Reads a user, applies {@code change} to it and stores the result, provided nobody else wrote
   * the user in between. {@code change} may throw to abandon the update; its exception propagates.
   *
   * @return the user as stored, with its version incremented
   * @throws UserNotFoundException when no user has the id
   * @throws VersionConflictException when another change was written first
   * @throws EmailAlreadyTakenException when the changed email belongs to another user
   */
  User update(UserId id, UnaryOperator<User> change);

  /**
   * Reads a user, lets {@code precondition} inspect it, and deletes it, provided nobody else wrote
   * the user in between. {@code precondition} may throw to abandon the delete.
   *
   * @throws UserNotFoundException when no user has the id
   * @throws VersionConflictException when another change was written first
   */
  void delete(UserId id, Consumer<User> precondition);

  /** Up to {@code limit} users in id order, from the first one. */
  List<User> listFirst(int limit);

  /** Up to {@code limit} users in id order, from the first one whose id comes after {@code after}. */
  List<User> listAfter(UserId after, int limit);
}
