package dev.users.adapter.persistence.memory;

import dev.users.application.port.IdempotencyKey;
import dev.users.application.port.UserRepository;
import dev.users.domain.Email;
import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.User;
import dev.users.domain.UserId;
import dev.users.domain.UserNotFoundException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * {@link UserRepository} in memory, for running without a database and for use-case tests.
 * Nothing survives the process. Thread-safe.
 *
 * <p>Writes take one lock, which keeps emails unique and idempotency keys atomic. Reads take no
 * lock: users are kept in a concurrent skip list, where a lookup costs the logarithm of the
 * directory's size and a page the number of users on it, so a crowd of listings holds up neither
 * lookups nor writes. A page is read while writes go on, so it may show one made during its
 * reading and miss another; each user on it is a version that was stored, and pages still follow
 * one another in id order, as the contract asks.
 *
 * <p>It behaves like the PostgreSQL repository down to its races: an update or delete reads the
 * user, runs the caller's function without holding the lock, and writes only if the version is
 * still the one it read, or else reads and runs the function again; its last attempt of {@value
 * #ATTEMPTS} runs the function under the lock, where it cannot lose.
 */
public final class InMemoryUserRepository implements UserRepository {

  // As many as the PostgreSQL repository makes, for the same reason.
  private static final int ATTEMPTS = 3;

  private final Object lock = new Object();
  // UserId's order, unsigned like PostgreSQL's uuid, so that listings page the same way.
  private final ConcurrentNavigableMap<UserId, User> users = new ConcurrentSkipListMap<>();
  private final Map<String, UserId> idByCanonicalEmail = new HashMap<>();
  private final Map<IdempotencyKey, UserId> idByIdempotencyKey = new HashMap<>();
  private final Map<UserId, IdempotencyKey> idempotencyKeyById = new HashMap<>();

  @Override
  public User add(User user) {
    synchronized (lock) {
      if (!isFree(user.email(), user.id())) {
        throw new EmailAlreadyTakenException(user.email());
      }
      return store(user);
    }
  }

  @Override
  public User add(User user, IdempotencyKey idempotencyKey) {
    synchronized (lock) {
      var earlier = idByIdempotencyKey.get(idempotencyKey);
      if (earlier != null) {
        return users.get(earlier);
      }
      var stored = add(user);
      idByIdempotencyKey.put(idempotencyKey, stored.id());
      idempotencyKeyById.put(stored.id(), idempotencyKey);
      return stored;
    }
  }

  @Override
  public List<User> addAll(List<User> batch) {
    synchronized (lock) {
      var stored = new ArrayList<User>();
      for (var user : batch) {
        if (isFree(user.email(), user.id())) {
          stored.add(store(user));
        }
      }
      return List.copyOf(stored);
    }
  }

  @Override
  public Optional<User> findById(UserId id) {
    return Optional.ofNullable(users.get(id));
  }

  @Override
  public User update(UserId id, UnaryOperator<User> change) {
    return readModifyWrite(id, change, (current, changed) -> {
      if (!isFree(changed.email(), id)) {
        throw new EmailAlreadyTakenException(changed.email());
      }
      var stored = User.reconstitute(
          id, changed.email(), changed.displayName(), current.createTime(), changed.updateTime(),
          current.version() + 1);
      idByCanonicalEmail.remove(current.email().canonical());
      idByCanonicalEmail.put(stored.email().canonical(), id);
      users.put(id, stored);
      return stored;
    });
  }

  @Override
  public void delete(UserId id, Consumer<User> precondition) {
    readModifyWrite(id, current -> {
      precondition.accept(current);
      return current;
    }, (current, accepted) -> {
      users.remove(id);
      idByCanonicalEmail.remove(current.email().canonical());
      var idempotencyKey = idempotencyKeyById.remove(id);
      if (idempotencyKey != null) {
        idByIdempotencyKey.remove(idempotencyKey);
      }
      return current;
    });
  }

  @Override
  public void forEach(Optional<UserId> after, int limit, Consumer<? super User> each) {
    requirePositive(limit);
    var from = after.map(id -> users.tailMap(id, false)).orElse(users).values().iterator();
    for (int passed = 0; passed < limit && from.hasNext(); passed++) {
      each.accept(from.next());
    }
  }

  /**
   * Runs {@code decide} on the user as stored, without the lock, then {@code write} with the lock
   * held, if the user is still at the version decided on; else again on the user as it is now. The
   * last attempt runs both under the lock, where no other write can come first.
   */
  private <D> User readModifyWrite(UserId id, Function<User, D> decide, BiFunction<User, D, User> write) {
    for (int attempt = 1; attempt < ATTEMPTS; attempt++) {
      var read = stored(id);
      var decision = decide.apply(read);
      synchronized (lock) {
        if (stored(id).version() == read.version()) {
          return write.apply(read, decision);
        }
      }
    }
    synchronized (lock) {
      var current = stored(id);
      return write.apply(current, decide.apply(current));
    }
  }

  private User stored(UserId id) {
    var user = users.get(id);
    if (user == null) {
      throw new UserNotFoundException(id);
    }
    return user;
  }

  /** The first {@code limit} of {@code users}, visiting no more of them than it returns. */
  /** Whether no user but {@code owner} has the email; call holding the lock. */
  private boolean isFree(Email email, UserId owner) {
    var holder = idByCanonicalEmail.get(email.canonical());
    return holder == null || holder.equals(owner);
  }

  /** Stores a new user at version 1; call holding the lock. */
  private User store(User user) {
    if (users.containsKey(user.id())) {
      throw new IllegalArgumentException("a user with id " + user.id() + " is already stored");
    }
    var stored = User.reconstitute(
        user.id(), user.email(), user.displayName(), user.createTime(), user.updateTime(), 1);
    users.put(stored.id(), stored);
    idByCanonicalEmail.put(stored.email().canonical(), stored.id());
    return stored;
  }

  private static void requirePositive(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, got " + limit);
    }
  }
}
