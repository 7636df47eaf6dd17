package dev.users.adapter.persistence.memory;

import dev.users.application.port.IdempotencyKey;
import dev.users.application.port.UserRepository;
import dev.users.domain.Email;
import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.User;
import dev.users.domain.UserId;
import dev.users.domain.UserNotFoundException;
import dev.users.domain.VersionConflictException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * {@link UserRepository} in memory, for running without a database and for use-case tests.
 * Nothing survives the process. Thread-safe.
 *
 * <p>It behaves like the PostgreSQL repository down to its races: an update or delete reads the
 * user, runs the caller's function without holding the lock, and writes only if the version is
 * still the one it read.
 */
public final class InMemoryUserRepository implements UserRepository {

  private final Object lock = new Object();
  // UserId's order, unsigned like PostgreSQL's uuid, so that listings page the same way.
  private final NavigableMap<UserId, User> users = new TreeMap<>();
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
    synchronized (lock) {
      return Optional.ofNullable(users.get(id));
    }
  }

  @Override
  public User update(UserId id, UnaryOperator<User> change) {
    var read = findById(id).orElseThrow(() -> new UserNotFoundException(id));
    var changed = change.apply(read);
    synchronized (lock) {
      var current = requireUnchanged(read);
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
    }
  }

  @Override
  public void delete(UserId id, Consumer<User> precondition) {
    var read = findById(id).orElseThrow(() -> new UserNotFoundException(id));
    precondition.accept(read);
    synchronized (lock) {
      var current = requireUnchanged(read);
      users.remove(id);
      idByCanonicalEmail.remove(current.email().canonical());
      var idempotencyKey = idempotencyKeyById.remove(id);
      if (idempotencyKey != null) {
        idByIdempotencyKey.remove(idempotencyKey);
      }
    }
  }

  @Override
  public List<User> listFirst(int limit) {
    requirePositive(limit);
    synchronized (lock) {
      return users.values().stream().limit(limit).toList();
    }
  }

  @Override
  public List<User> listAfter(UserId after, int limit) {
    requirePositive(limit);
    synchronized (lock) {
      return users.tailMap(after, false).values().stream().limit(limit).toList();
    }
  }

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

  /** The stored user, if it is still the version {@code read}; call holding the lock. */
  private User requireUnchanged(User read) {
    var current = users.get(read.id());
    if (current == null) {
      throw new UserNotFoundException(read.id());
    }
    if (current.version() != read.version()) {
      throw new VersionConflictException(read.id());
    }
    return current;
  }

  private static void requirePositive(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, got " + limit);
    }
  }
}
