package dev.users.adapter.grpc;

import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.User;
import dev.users.domain.UserId;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;

/** Users for tests, with defaults for every field a test does not care about. */
final class TestUsers {

  static final String ID = "0190b6e0-5f2a-7c3e-9a4b-3c2d1e0f9a8b";
  static final Instant CREATED = Instant.parse("2024-05-01T10:15:30.123456Z");
  static final Instant UPDATED = Instant.parse("2024-06-02T08:00:00.654321Z");

  private TestUsers() {}

  static Builder aUser() {
    return new Builder();
  }

  /** {@code count} users in ascending id order, as the directory lists them. */
  static List<User> directory(int count) {
    return IntStream.range(0, count)
        .mapToObj(i -> aUser()
            .withId(new UUID(0x0190b6e05f2a7c3eL, 0x8000000000000000L + i).toString())
            .withEmail("user" + i + "@example.org")
            .withDisplayName("User " + i)
            .build())
        .toList();
  }

  static final class Builder {

    private String id = ID;
    private String email = "ada@example.org";
    private String displayName = "Ada Lovelace";
    private long version = 3;
    private Instant createTime = CREATED;
    private Instant updateTime = UPDATED;

    Builder withId(String id) {
      this.id = id;
      return this;
    }

    Builder withEmail(String email) {
      this.email = email;
      return this;
    }

    Builder withDisplayName(String displayName) {
      this.displayName = displayName;
      return this;
    }

    Builder withVersion(long version) {
      this.version = version;
      return this;
    }

    Builder withTimes(Instant createTime, Instant updateTime) {
      this.createTime = createTime;
      this.updateTime = updateTime;
      return this;
    }

    User build() {
      return User.reconstitute(
          UserId.parse(id), new Email(email), new DisplayName(displayName), createTime, updateTime, version);
    }
  }
}
