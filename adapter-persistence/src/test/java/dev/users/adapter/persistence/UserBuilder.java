package dev.users.adapter.persistence;

import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.User;
import dev.users.domain.UserId;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/** A user to store: a fresh id and email each, created at a time with microseconds. */
final class UserBuilder {

  static final Instant CREATED = Instant.parse("2026-01-02T03:04:05.123456Z");
  private static final AtomicLong SEQUENCE = new AtomicLong();

  private UserId id;
  private String email;
  private String displayName = "Ada Lovelace";
  private Instant createTime = CREATED;
  private Instant updateTime = CREATED;

  private UserBuilder() {
    long n = SEQUENCE.incrementAndGet();
    id = new UserId(new UUID(0x0190_b6e0_5f2a_7c3eL, 0x9a4b_0000_0000_0000L + n));
    email = "user" + n + "@example.org";
  }

  static UserBuilder aUser() {
    return new UserBuilder();
  }

  UserBuilder withId(String id) {
    this.id = UserId.parse(id);
    return this;
  }

  UserBuilder withEmail(String email) {
    this.email = email;
    return this;
  }

  UserBuilder withDisplayName(String displayName) {
    this.displayName = displayName;
    return this;
  }

  UserBuilder createdAt(Instant createTime) {
    this.createTime = createTime;
    return this;
  }

  UserBuilder updatedAt(Instant updateTime) {
    this.updateTime = updateTime;
    return this;
  }

  User build() {
    return User.reconstitute(id, new Email(email), new DisplayName(displayName), createTime, updateTime, 1);
  }
}
