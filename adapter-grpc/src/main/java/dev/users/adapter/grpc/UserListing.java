package dev.users.adapter.grpc;

import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.ListUsersResponse;
import dev.users.application.access.Caller;
import dev.users.application.list.ListUsers;
import dev.users.application.list.ListUsersQuery;
import dev.users.application.list.UserPage;
import dev.users.domain.UserId;
import dev.users.domain.Violations;
import io.grpc.Context;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * One ListUsers call: reads the directory a chunk at a time and sends each chunk as one message,
 * reading the next chunk only when the client can take it.
 *
 * <p>Each chunk is a query of its own, resuming after the last id sent (keyset pagination), so a
 * database connection is held for one query and never while the call waits for a slow client:
 * a slow reader costs the memory of one chunk, not a pooled connection for the length of the
 * stream.
 *
 * <p>Everything runs in callbacks of the call (the method invocation, onReady, onCancel), which
 * grpc-java never runs concurrently for one call, so the state needs no lock.
 */
final class UserListing {

  /**
   * Users per message and per query, the most a query may read ({@link ListUsersQuery#MAX_LIMIT}):
   * about 120 KB of users, which amortises a query's and a message's fixed costs better than 250
   * did, while a call's memory stays one chunk.
   */
  static final int CHUNK_SIZE = 1_000;

  /**
   * Bytes queued for the client below which the call reads and sends the next chunk. grpc-java's
   * default, 32 KiB, is less than one chunk's message: the call would stall until each message
   * had left before reading the next. Two messages keep one in flight while the next is read.
   */
  static final int READY_THRESHOLD_BYTES = 256 * 1024;

  private final ListUsers list;
  private final Caller caller;
  private final ServerCallStreamObserver<ListUsersResponse> responses;
  private final Context context;
  /** The last user sent, or null before the first one of a listing started without a token. */
  private UserId after;
  private long remaining;
  private boolean finished;

  private UserListing(
      ListUsers list, Caller caller, ServerCallStreamObserver<ListUsersResponse> responses, UserId after,
      long remaining) {
    this.list = list;
    this.caller = caller;
    this.responses = responses;
    this.context = Context.current();
    this.after = after;
    this.remaining = remaining;
  }

  static void start(ListUsers list, Caller caller, ListUsersRequest request, ServerCallStreamObserver<ListUsersResponse> responses) {
    var violations = new Violations();
    if (request.getPageSize() < 0) {
      violations.add("page_size", "must not be negative");
    }
    var resumeAfter = violations.check(() -> PageTokens.decode(request.getPageToken()));
    var invalid = violations.failure();
    if (invalid.isPresent()) {
      responses.onError(CallFailures.report(invalid.get(), UnaryOperator.identity()));
      return;
    }
    long limit = request.getPageSize() == 0 ? Long.MAX_VALUE : request.getPageSize();
    var listing = new UserListing(list, caller, responses, resumeAfter.orElse(null), limit);
    responses.setOnCancelHandler(listing::stop);
    responses.setOnReadyThreshold(READY_THRESHOLD_BYTES);
    responses.setOnReadyHandler(listing::drain);
    // The transport may have reported ready before the handler existed; grpc-java also calls the
    // handler once after this method returns, which finds the listing done or not ready.
    listing.drain();
  }

  private void drain() {
    while (!finished && responses.isReady()) {
      // The context is cancelled at once on cancellation or deadline, while onCancel waits for
      // this callback to return.
      if (context.isCancelled()) {
        stop();
        return;
      }
      sendNextChunk();
    }
  }

  private void stop() {
    finished = true;
  }

  private void sendNextChunk() {
    UserPage page;
    try {
      page = list.list(caller, new ListUsersQuery(Optional.ofNullable(after), (int) Math.min(CHUNK_SIZE, remaining)));
    } catch (RuntimeException e) {
      stop();
      responses.onError(CallFailures.report(e, UnaryOperator.identity()));
      return;
    }
    var message = ListUsersResponse.newBuilder();
    page.users().forEach(user -> message.addUsers(UserMessages.toProto(user)));
    remaining -= page.users().size();
    after = page.lastId().orElse(after);
    if (page.hasMore() && after != null) {
      message.setNextPageToken(PageTokens.encode(after));
    }
    // An empty page ends the listing even if it claims more could follow: asking again with the
    // same position would only spin.
    finished = !page.hasMore() || page.users().isEmpty() || remaining == 0;
    responses.onNext(message.build());
    if (finished) {
      responses.onCompleted();
    }
  }
}
