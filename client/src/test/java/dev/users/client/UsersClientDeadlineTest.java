package dev.users.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Each call gets its own deadline when it starts, however long the client has lived. */
class UsersClientDeadlineTest {

  private final FakeUserService fake = new FakeUserService(List.of(FakeUserService.user(1)));
  private final InProcessService service = new InProcessService(fake);
  private final UsersClient client = service.client(UsersClient.forTarget("in-process").deadline(Duration.ofMillis(800)));

  @AfterEach
  void stop() {
    client.close();
    service.close();
  }

  @Test
  void twoCallsSpacedFurtherApartThanTheDeadlineEachGetTheirOwn() throws InterruptedException {
    client.getUser("u1");
    Thread.sleep(1_000);
    client.getUser("u2");

    var remaining = remainingMillis();
    System.out.println("remaining deadline per call as the server saw it (ms): " + remaining);
    assertThat(remaining).hasSize(2).allSatisfy(millis -> assertThat(millis).isBetween(1L, 800L));
  }

  @Test
  void aViewWithAnotherDeadlineOverridesTheDefaultForItsCalls() {
    client.withDeadline(Duration.ofSeconds(30)).getUser("u1");
    client.getUser("u2");

    var remaining = remainingMillis();
    assertThat(remaining.get(0)).isGreaterThan(10_000L);
    assertThat(remaining.get(1)).isLessThanOrEqualTo(800L);
  }

  @Test
  void streamingCallsGetTheLongerStreamingDeadline() {
    assertThat(client.listUsers().toList()).hasSize(1);

    assertThat(remainingMillis().getFirst()).isGreaterThan(60_000L);
  }

  @Test
  void closingAViewLeavesTheSharedClientWorking() {
    client.withDeadline(Duration.ofSeconds(5)).close();

    assertThat(client.getUser("u1").getId()).isEqualTo("u1");
  }

  private List<Long> remainingMillis() {
    assertThat(fake.remainingMillis).as("every call carried a deadline").doesNotContainNull();
    return fake.remainingMillis;
  }
}
