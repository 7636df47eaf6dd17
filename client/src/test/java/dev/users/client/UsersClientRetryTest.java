package dev.users.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.User;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The retry policy really applies, to exactly the calls it is safe for: the fake server counts the
 * attempts that reach it. (A service config entry naming no real method is silently ignored by
 * grpc-java; these counts would then be 1.)
 */
class UsersClientRetryTest {

  private static final Supplier<StatusRuntimeException> UNAVAILABLE =
      () -> Status.UNAVAILABLE.withDescription("replica going away").asRuntimeException();

  private final FakeUserService fake = new FakeUserService();
  private final InProcessService service = new InProcessService(fake);
  private final UsersClient client = service.client();

  @AfterEach
  void stop() {
    client.close();
    service.close();
  }

  @Test
  void getUserIsRetriedOnUnavailableUntilItSucceeds() {
    fake.failNext("GetUser", 3, UNAVAILABLE);

    assertThat(client.getUser("u1").getId()).isEqualTo("u1");
    assertThat(fake.attempts("GetUser")).isEqualTo(4);
  }

  @Test
  void retriesStopAfterFourAttempts() {
    fake.failNext("GetUser", 5, UNAVAILABLE);

    assertThatThrownBy(() -> client.getUser("u1")).isInstanceOf(UsersClientException.Unavailable.class);
    assertThat(fake.attempts("GetUser")).isEqualTo(4);
  }

  @Test
  void onlyUnavailableIsRetried() {
    fake.failNext("GetUser", 1, () -> Status.INTERNAL.withDescription("internal error").asRuntimeException());

    assertThatThrownBy(() -> client.getUser("u1")).isInstanceOf(UsersClientException.Failed.class);
    assertThat(fake.attempts("GetUser")).isEqualTo(1);
  }

  @Test
  void createUserRetriesReuseOneIdempotencyKeyAndEachCreateHasItsOwn() {
    fake.failNext("CreateUser", 2, UNAVAILABLE);

    client.createUser("ada@example.com", "Ada");
    client.createUser("grace@example.com", "Grace");

    var keys = fake.<CreateUserRequest>requests("CreateUser").stream().map(CreateUserRequest::getIdempotencyKey).toList();
    assertThat(keys).hasSize(4).doesNotContain("");
    assertThat(keys.subList(0, 3)).containsOnly(keys.getFirst());
    assertThat(keys.get(3)).isNotEqualTo(keys.getFirst());
  }

  @Test
  void aCallerSuppliedIdempotencyKeyMustNotBeEmptySinceCreatesAreRetried() {
    assertThatThrownBy(() -> client.createUser("ada@example.com", "Ada", ""))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(fake.attempts("CreateUser")).isZero();
  }

  @Test
  void anUnconditionalUpdateIsNeverRetried() {
    fake.failNext("UpdateUser", 1, UNAVAILABLE);

    assertThatThrownBy(() -> client.updateUser(update(""))).isInstanceOf(UsersClientException.Unavailable.class);
    assertThat(fake.attempts("UpdateUser")).isEqualTo(1);
  }

  @Test
  void aConditionalUpdateIsRetriedWithItsEtag() {
    fake.failNext("UpdateUser", 2, UNAVAILABLE);

    assertThat(client.updateUser(update("etag-1")).getDisplayName()).isEqualTo("Ada L.");
    assertThat(fake.<UpdateUserRequest>requests("UpdateUser"))
        .hasSize(3)
        .allSatisfy(request -> assertThat(request.getUser().getEtag()).isEqualTo("etag-1"));
  }

  @Test
  void aConditionalUpdateGivesUpAfterFourAttempts() {
    fake.failNext("UpdateUser", 5, UNAVAILABLE);

    assertThatThrownBy(() -> client.updateUser(update("etag-1"))).isInstanceOf(UsersClientException.Unavailable.class);
    assertThat(fake.attempts("UpdateUser")).isEqualTo(4);
  }

  @Test
  void aConditionalUpdateIsNotRetriedWhenTheServerPushesBackWithANegativeDelay() {
    var noRetry = new Metadata();
    noRetry.put(Metadata.Key.of("grpc-retry-pushback-ms", Metadata.ASCII_STRING_MARSHALLER), "-1");
    fake.failNext("UpdateUser", 1, () -> Status.UNAVAILABLE.asRuntimeException(noRetry));

    assertThatThrownBy(() -> client.updateUser(update("etag-1"))).isInstanceOf(UsersClientException.Unavailable.class);
    assertThat(fake.attempts("UpdateUser")).isEqualTo(1);
  }

  @Test
  void anUnconditionalDeleteIsNeverRetried() {
    fake.failNext("DeleteUser", 1, UNAVAILABLE);

    assertThatThrownBy(() -> client.deleteUser("u1")).isInstanceOf(UsersClientException.Unavailable.class);
    assertThat(fake.attempts("DeleteUser")).isEqualTo(1);
  }

  @Test
  void aConditionalDeleteIsRetried() {
    fake.failNext("DeleteUser", 2, UNAVAILABLE);

    client.deleteUser("u1", "etag-1");

    assertThat(fake.attempts("DeleteUser")).isEqualTo(3);
  }

  private static UpdateUserRequest update(String etag) {
    return UpdateUserRequest.newBuilder()
        .setUser(User.newBuilder().setId("u1").setDisplayName("Ada L.").setEtag(etag))
        .build();
  }
}
