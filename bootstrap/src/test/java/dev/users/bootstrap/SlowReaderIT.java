package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ListUsersRequest;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A client that stops reading a long listing for a while: the server must wait for it rather than
 * buffer the rest of the listing, and resume where it stopped.
 */
class SlowReaderIT {

  private static final int USERS = 40_000;
  private static final long PAUSE_MILLIS = 4_000;
  private static final long GROWTH_BOUND_KIB = 50 * 1024;

  @RegisterExtension
  final ServiceJar.Launcher services = new ServiceJar.Launcher();

  private ManagedChannel channel;

  @AfterEach
  void closeChannel() {
    if (channel != null) {
      channel.shutdownNow();
    }
  }

  @Test
  void aClientPausingMidListingCostsTheServerUnder50MbAndThenGetsEveryUserOnce() throws Exception {
    var service = services.start(Map.of("USERS_GRPC_PORT", "0", "USERS_STORAGE", "memory"));
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", service.awaitPort(), InsecureChannelCredentials.create())
        .build();
    // Users as large as the domain allows (about 1 KiB each): a server that buffered the listing
    // for a stalled client would hold all of it, well over the bound.
    long started = System.nanoTime();
    for (int batch = 0; batch < USERS / 5_000; batch++) {
      var items = new ArrayList<ImportUsersRequest>();
      for (int i = batch * 5_000; i < (batch + 1) * 5_000; i++) {
        items.add(largestUser(i));
      }
      assertThat(UsersServiceEndToEndTest.importUsers(channel, items).getCreatedCount()).isEqualTo(items.size());
    }
    long importMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

    long baselineKib = service.residentKib();
    var listing = SlowListing.start(channel, ListUsersRequest.getDefaultInstance());
    listing.takeOne();
    long peakKib = baselineKib;
    long pauseEnds = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PAUSE_MILLIS);
    while (System.nanoTime() < pauseEnds) {
      peakKib = Math.max(peakKib, service.residentKib());
      Thread.sleep(100);
    }
    var outcome = listing.readToEnd();

    System.out.printf("slow reader: %d users (%d MiB of messages) imported in %d ms; listing paused %d ms after "
            + "its first message: server RSS %d MiB before, peak %d MiB during the pause (+%d MiB); "
            + "listing %s with %d users after resuming%n",
        USERS, outcome.bytes() >> 20, importMillis, PAUSE_MILLIS, baselineKib >> 10, peakKib >> 10,
        (peakKib - baselineKib) >> 10, outcome.status().getCode(), outcome.userIds().size());
    assertThat(peakKib - baselineKib).as("server RSS growth in KiB while the client paused")
        .isLessThan(GROWTH_BOUND_KIB);
    assertThat(outcome.status().isOk()).as(outcome.status().toString()).isTrue();
    assertThat(outcome.userIds()).hasSize(USERS).doesNotHaveDuplicates();
  }

  /** An email of 254 and a display name of 100 three-byte characters: about 1 KiB in a message. */
  private static ImportUsersRequest largestUser(int index) {
    var suffix = "@example.org";
    var local = new StringBuilder("u").append(index).append('.');
    while (local.length() < 254 - suffix.length()) {
      local.append('用');
    }
    var name = new StringBuilder().append(index).append(' ');
    while (name.length() < 100) {
      name.append('户');
    }
    return ImportUsersRequest.newBuilder()
        .setEmail(local + suffix).setDisplayName(name.toString()).build();
  }
}
