package dev.users.bootstrap;

import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.ListUsersResponse;
import dev.users.api.v1.User;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A ListUsers call read as a slow client reads it: a message only when the test takes one. The
 * client's flow control then keeps the server from sending more than the transport's window
 * ahead, so a listing larger than that window is still running on the server while the test
 * waits.
 */
final class SlowListing {

  private static final long WAIT_SECONDS = 30;

  private final ClientCall<ListUsersRequest, ListUsersResponse> call;
  /** Messages, then the closing {@link Status}, in the order the call delivered them. */
  private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
  private final List<String> userIds = new ArrayList<>();
  private long bytes;

  private SlowListing(ClientCall<ListUsersRequest, ListUsersResponse> call) {
    this.call = call;
  }

  /** The whole listing as the client received it. */
  record Outcome(Status status, List<String> userIds, long bytes) {}

  static SlowListing start(Channel channel, ListUsersRequest request) {
    var call = channel.newCall(UserServiceGrpc.getListUsersMethod(),
        CallOptions.DEFAULT.withDeadlineAfter(2 * WAIT_SECONDS, TimeUnit.SECONDS));
    var listing = new SlowListing(call);
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(ListUsersResponse message) {
        listing.events.add(message);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        listing.events.add(status);
      }
    }, new Metadata());
    call.sendMessage(request);
    call.halfClose();
    return listing;
  }

  /** Asks for one more message and waits for it. */
  ListUsersResponse takeOne() throws InterruptedException {
    call.request(1);
    var event = events.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    if (event instanceof ListUsersResponse message) {
      record(message);
      return message;
    }
    throw new AssertionError("expected a ListUsers message within " + WAIT_SECONDS + " s, got " + event);
  }

  /** Reads every remaining message as fast as they come, until the call closes. */
  Outcome readToEnd() throws InterruptedException {
    call.request(Integer.MAX_VALUE);
    while (true) {
      switch (events.poll(WAIT_SECONDS, TimeUnit.SECONDS)) {
        case ListUsersResponse message -> record(message);
        case Status status -> {
          return new Outcome(status, List.copyOf(userIds), bytes);
        }
        case null -> throw new AssertionError("the listing neither sent nor ended within " + WAIT_SECONDS + " s");
        default -> throw new IllegalStateException("unexpected event");
      }
    }
  }

  private void record(ListUsersResponse message) {
    bytes += message.getSerializedSize();
    message.getUsersList().stream().map(User::getId).forEach(userIds::add);
  }
}
