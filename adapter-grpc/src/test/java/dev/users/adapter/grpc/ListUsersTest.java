package dev.users.adapter.grpc;

import static dev.users.adapter.grpc.StatusDetails.badRequestFields;
import static dev.users.adapter.grpc.StatusDetails.failureOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.RetryInfo;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.ListUsersResponse;
import dev.users.api.v1.UserServiceGrpc;
import dev.users.application.access.Caller;
import dev.users.application.list.ListUsers;
import dev.users.application.list.ListUsersQuery;
import dev.users.application.port.StorageUnavailableException;
import dev.users.domain.User;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ListUsersTest {

  private static final int MESSAGE = UserListing.MESSAGE_SIZE;
  private static final int SEGMENT = UserListing.SEGMENT_SIZE;

  @RegisterExtension
  final InProcessUserService service = new InProcessUserService();

  @Test
  void streamsTheDirectoryInSegmentsEachReadOnItsOwnAfterTheLastUserSent() {
    var users = TestUsers.directory(SEGMENT + 2 * MESSAGE + 100);
    var directory = new FakeDirectory(users);
    service.onList(directory);

    var messages = list(ListUsersRequest.getDefaultInstance());

    assertThat(messages).extracting(ListUsersResponse::getUsersCount)
        .containsExactlyElementsOf(messageSizes(SEGMENT / MESSAGE + 2, 100));
    assertThat(listedIds(messages)).containsExactlyElementsOf(ids(users));
    assertThat(messages.getFirst().getUsers(0)).isEqualTo(UserMessages.toProto(users.getFirst()));
    assertThat(directory.queries).containsExactly(
        new ListUsersQuery(Optional.empty(), SEGMENT),
        new ListUsersQuery(Optional.of(users.get(SEGMENT - 1).id()), SEGMENT));
  }

  @Test
  void everyMessageButTheLastCarriesATokenResumingRightAfterIt() {
    var users = TestUsers.directory(SEGMENT + MESSAGE + 100);
    service.onList(new FakeDirectory(users));
    var messages = list(ListUsersRequest.getDefaultInstance());

    assertThat(messages.getLast().getNextPageToken()).isEmpty();
    assertThat(messages.subList(0, messages.size() - 1))
        .extracting(ListUsersResponse::getNextPageToken).allSatisfy(token -> assertThat(token).isNotEmpty());
    var resumed = list(ListUsersRequest.newBuilder().setPageToken(messages.get(0).getNextPageToken()).build());
    assertThat(listedIds(resumed)).containsExactlyElementsOf(ids(users.subList(MESSAGE, users.size())));
    int lastOfSegment = SEGMENT / MESSAGE - 1;
    var resumedLater = list(ListUsersRequest.newBuilder()
        .setPageToken(messages.get(lastOfSegment).getNextPageToken()).build());
    assertThat(listedIds(resumedLater)).containsExactlyElementsOf(ids(users.subList(SEGMENT, users.size())));
  }

  @Test
  void pageSizeBoundsTheWholeCallAndItsLastTokenResumesAfterIt() {
    var users = TestUsers.directory(SEGMENT + MESSAGE + 100);
    var directory = new FakeDirectory(users);
    service.onList(directory);

    var messages = list(ListUsersRequest.newBuilder().setPageSize(SEGMENT + 50).build());

    assertThat(messages).extracting(ListUsersResponse::getUsersCount)
        .containsExactlyElementsOf(messageSizes(SEGMENT / MESSAGE, 50));
    assertThat(directory.queries).extracting(ListUsersQuery::limit).containsExactly(SEGMENT, 50);
    var rest = list(ListUsersRequest.newBuilder().setPageToken(messages.getLast().getNextPageToken()).build());
    assertThat(listedIds(rest)).containsExactlyElementsOf(ids(users.subList(SEGMENT + 50, users.size())));
  }

  @Test
  void aListingEndingOnASegmentBoundaryEndsWithItsLastUsersAndNoToken() {
    service.onList(new FakeDirectory(TestUsers.directory(SEGMENT)));

    var messages = list(ListUsersRequest.getDefaultInstance());

    assertThat(messages).extracting(ListUsersResponse::getUsersCount)
        .containsExactlyElementsOf(messageSizes(SEGMENT / MESSAGE, 0));
    assertThat(messages.getLast().getNextPageToken()).isEmpty();
    assertThat(messages.get(messages.size() - 2).getNextPageToken()).isNotEmpty();
  }

  @Test
  void anEmptyDirectoryIsOneMessageWithoutUsersOrToken() {
    service.onList(new FakeDirectory(List.of()));

    var messages = list(ListUsersRequest.getDefaultInstance());

    assertThat(messages).containsExactly(ListUsersResponse.getDefaultInstance());
  }

  @Test
  void reportsANegativePageSizeAndAMalformedTokenTogether() {
    var failure = failureOf(() -> list(ListUsersRequest.newBuilder().setPageSize(-1).setPageToken("garbage!").build()));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(badRequestFields(failure)).containsExactly("page_size", "page_token");
  }

  @Test
  void rejectsATruncatedToken() {
    var token = PageTokens.encode(TestUsers.directory(1).getFirst().id());
    var truncated = token.substring(0, token.length() - 2);

    var failure = failureOf(() -> list(ListUsersRequest.newBuilder().setPageToken(truncated).build()));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(badRequestFields(failure)).containsExactly("page_token");
  }

  @Test
  void readsTheDirectoryOnlyAsFastAsTheClientReadsTheStream() throws Exception {
    var directory = new FakeDirectory(TestUsers.directory(5 * SEGMENT));
    var probe = new CallProbe();
    service.onList(directory).withInnermost(probe);
    var client = new RecordingCall(CallOptions.DEFAULT);

    client.call.request(1);
    client.call.sendMessage(ListUsersRequest.getDefaultInstance());
    client.call.halfClose();
    var first = client.messages.poll(10, TimeUnit.SECONDS);
    assertThat(first).isNotNull();
    probe.awaitHalfCloseHandled();

    assertThat(directory.queries).as("one segment sent ahead of a client that asked for one message").hasSize(1);

    client.call.request(Integer.MAX_VALUE);
    assertThat(client.status.get(10, TimeUnit.SECONDS).isOk()).isTrue();
    int received = first.getUsersCount() + client.messages.stream().mapToInt(ListUsersResponse::getUsersCount).sum();
    assertThat(received).isEqualTo(5 * SEGMENT);
    assertThat(directory.queries).as("one read per segment, none after the last user").hasSize(5);
  }

  @Test
  void stopsReadingTheDirectoryWhenTheClientCancels() throws Exception {
    var directory = new FakeDirectory(TestUsers.directory(10 * SEGMENT));
    var secondQueryRunning = new CountDownLatch(1);
    var probe = new CallProbe();
    service.withInnermost(probe).onList((caller, query, each) -> {
      if (directory.queries.size() == 1) {
        secondQueryRunning.countDown();
        Await.cancellationOf(Context.current());
      }
      return directory.list(caller, query, each);
    });
    var client = new RecordingCall(CallOptions.DEFAULT);

    client.call.request(Integer.MAX_VALUE);
    client.call.sendMessage(ListUsersRequest.getDefaultInstance());
    client.call.halfClose();
    assertThat(secondQueryRunning.await(10, TimeUnit.SECONDS)).isTrue();
    client.call.cancel("the client lost interest", null);
    probe.awaitCancelHandled();

    assertThat(directory.queries).hasSize(2);
    assertThat(client.status.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
  }

  @Test
  void aCancellationMidSegmentStopsTheReadAtTheNextMessage() throws Exception {
    var users = TestUsers.directory(SEGMENT + 1);
    var passedBeforeStop = new CompletableFuture<Integer>();
    var cancelled = new CountDownLatch(1);
    service.onList((caller, query, each) -> {
      int passed = 0;
      try {
        for (var user : users) {
          if (passed == MESSAGE + MESSAGE / 2) {
            cancelled.countDown();
            Await.cancellationOf(Context.current());
          }
          each.accept(user);
          passed++;
        }
      } catch (RuntimeException stopped) {
        passedBeforeStop.complete(passed);
        throw stopped;
      }
      passedBeforeStop.complete(passed);
      return false;
    });
    var client = new RecordingCall(CallOptions.DEFAULT);

    client.call.request(Integer.MAX_VALUE);
    client.call.sendMessage(ListUsersRequest.getDefaultInstance());
    client.call.halfClose();
    assertThat(cancelled.await(10, TimeUnit.SECONDS)).isTrue();
    client.call.cancel("the client lost interest", null);

    assertThat(passedBeforeStop.get(10, TimeUnit.SECONDS))
        .as("the read ends when the second message is full, not at the end of its segment")
        .isEqualTo(2 * MESSAGE);
    assertThat(client.status.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
  }

  @Test
  void aStorageFailureMidStreamEndsTheStreamWithUnavailable() {
    var directory = new FakeDirectory(TestUsers.directory(SEGMENT + 100));
    service.onList((caller, query, each) -> {
      if (query.after().isPresent()) {
        throw new StorageUnavailableException("pool exhausted", null);
      }
      return directory.list(caller, query, each);
    });
    var received = new ArrayList<ListUsersResponse>();

    var failure = failureOf(() -> service.blockingStub().listUsers(ListUsersRequest.getDefaultInstance())
        .forEachRemaining(received::add));

    assertThat(received).extracting(ListUsersResponse::getUsersCount)
        .containsExactlyElementsOf(messageSizes(SEGMENT / MESSAGE, 0));
    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(StatusDetails.detail(failure, RetryInfo.class).hasRetryDelay()).isTrue();
  }

  @Test
  void aClientThatStopsReadingIsCutOffAtTheServersDefaultDeadline() throws Exception {
    service.withDefaultDeadline(Duration.ofMillis(200)).onList(new FakeDirectory(TestUsers.directory(2 * SEGMENT)));
    var client = new RecordingCall(CallOptions.DEFAULT);

    client.call.request(1);
    client.call.sendMessage(ListUsersRequest.getDefaultInstance());
    client.call.halfClose();

    assertThat(client.status.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
  }

  private List<ListUsersResponse> list(ListUsersRequest request) {
    var messages = new ArrayList<ListUsersResponse>();
    service.blockingStub().listUsers(request).forEachRemaining(messages::add);
    return messages;
  }

  /** {@code full} messages of {@value #MESSAGE} users, then one of {@code rest} if that is not 0. */
  private static List<Integer> messageSizes(int full, int rest) {
    var sizes = new ArrayList<>(Collections.nCopies(full, MESSAGE));
    if (rest > 0) {
      sizes.add(rest);
    }
    return sizes;
  }

  private static List<String> ids(List<User> users) {
    return users.stream().map(user -> user.id().toString()).toList();
  }

  private static List<String> listedIds(List<ListUsersResponse> messages) {
    return messages.stream()
        .flatMap(message -> message.getUsersList().stream())
        .map(dev.users.api.v1.User::getId)
        .toList();
  }

  /** The directory as the real use case reads it: ids in order, a full page may have more. */
  static final class FakeDirectory implements ListUsers {

    final List<ListUsersQuery> queries = new CopyOnWriteArrayList<>();
    private final List<User> users;

    FakeDirectory(List<User> users) {
      this.users = users;
    }

    @Override
    public boolean list(Caller caller, ListUsersQuery query, Consumer<? super User> each) {
      queries.add(query);
      var following = users.stream()
          .filter(user -> query.after().map(after -> user.id().compareTo(after) > 0).orElse(true))
          .toList();
      following.subList(0, Math.min(query.limit(), following.size())).forEach(each);
      return following.size() > query.limit();
    }
  }

  /** A ListUsers call without a stub, so that the test decides how many messages it reads. */
  private final class RecordingCall {

    final ClientCall<ListUsersRequest, ListUsersResponse> call;
    final LinkedBlockingQueue<ListUsersResponse> messages = new LinkedBlockingQueue<>();
    final CompletableFuture<Status> status = new CompletableFuture<>();

    RecordingCall(CallOptions options) {
      call = service.channel().newCall(UserServiceGrpc.getListUsersMethod(), options);
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onMessage(ListUsersResponse message) {
          messages.add(message);
        }

        @Override
        public void onClose(Status closed, Metadata trailers) {
          status.complete(closed);
        }
      }, new Metadata());
    }
  }

}
