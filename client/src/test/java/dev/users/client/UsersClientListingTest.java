package dev.users.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.ListUsersResponse;
import dev.users.api.v1.User;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Listing reads lazily, one message at a time, and survives a broken stream without losing or repeating a user. */
class UsersClientListingTest {

  private static final List<User> DIRECTORY = IntStream.rangeClosed(1, 23).mapToObj(FakeUserService::user).toList();
  private static final Supplier<StatusRuntimeException> BREAK =
      () -> Status.UNAVAILABLE.withDescription("replica going away").asRuntimeException();

  @Test
  void aListingBrokenMidwayResumesFromTheLastTokenWithEveryUserExactlyOnce() {
    var fake = new FakeUserService(DIRECTORY).failNext("ListUsers", 1, BREAK);
    try (var service = new InProcessService(fake); var client = service.client()) {

      var users = client.listUsers().toList();

      assertThat(users).containsExactlyElementsOf(DIRECTORY);
      assertThat(fake.<ListUsersRequest>requests("ListUsers")).extracting(ListUsersRequest::getPageToken)
          .containsExactly("", DIRECTORY.get(9).getId());
    }
  }

  @Test
  void aResumedListingAsksOnlyForTheUsersStillMissingFromThePageSize() {
    var fake = new FakeUserService(DIRECTORY).failNext("ListUsers", 1, BREAK);
    try (var service = new InProcessService(fake); var client = service.client()) {

      var users = client.listUsers(12, "").toList();

      assertThat(users).containsExactlyElementsOf(DIRECTORY.subList(0, 12));
      assertThat(fake.<ListUsersRequest>requests("ListUsers")).extracting(ListUsersRequest::getPageSize)
          .containsExactly(12, 2);
    }
  }

  @Test
  void aPageReadToItsEndTellsWhereTheNextPageStarts() {
    try (var service = new InProcessService(new FakeUserService(DIRECTORY)); var client = service.client()) {
      var rest = new AtomicReference<String>();

      var page = client.listUsers(12, "", rest::set).toList();

      assertThat(page).containsExactlyElementsOf(DIRECTORY.subList(0, 12));
      assertThat(rest.get()).isNotEmpty();
      assertThat(client.listUsers(0, rest.get()).toList()).containsExactlyElementsOf(DIRECTORY.subList(12, 23));
    }
  }

  @Test
  void theLastPageTellsThatNothingFollows() {
    try (var service = new InProcessService(new FakeUserService(DIRECTORY)); var client = service.client()) {
      var rest = new AtomicReference<String>();

      client.listUsers(0, "", rest::set).toList();

      assertThat(rest.get()).isEmpty();
    }
  }

  @Test
  void aListingStartsAfterTheGivenToken() {
    try (var service = new InProcessService(new FakeUserService(DIRECTORY)); var client = service.client()) {

      assertThat(client.listUsers(0, DIRECTORY.get(19).getId()).toList()).containsExactlyElementsOf(DIRECTORY.subList(20, 23));
    }
  }

  @Test
  void theServerSendsOnlyAsFastAsTheCallerReads() throws InterruptedException {
    var sent = new AtomicInteger();
    var endless = new UserServiceGrpc.UserServiceImplBase() {
      @Override
      public void listUsers(ListUsersRequest request, StreamObserver<ListUsersResponse> responses) {
        var stream = (ServerCallStreamObserver<ListUsersResponse>) responses;
        stream.setOnReadyHandler(() -> {
          while (stream.isReady() && !stream.isCancelled() && sent.get() < 1_000) {
            var number = sent.incrementAndGet();
            stream.onNext(ListUsersResponse.newBuilder()
                .addUsers(FakeUserService.user(number))
                .setNextPageToken(FakeUserService.user(number).getId())
                .build());
          }
        });
      }
    };
    try (var service = new InProcessService(endless); var client = service.client(); var users = client.listUsers()) {
      var iterator = users.iterator();
      iterator.next();
      iterator.next();
      Thread.sleep(300);

      System.out.println("messages sent while the caller had read 2 users: " + sent.get());
      assertThat(sent.get()).isLessThanOrEqualTo(4);
    }
  }
}
