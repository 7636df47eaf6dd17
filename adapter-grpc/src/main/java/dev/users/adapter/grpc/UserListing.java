package dev.users.adapter.grpc;

import dev.users.api.v1.ListUsersRequest;
import dev.users.application.access.Caller;
import dev.users.application.list.ListUsers;
import dev.users.application.list.ListUsersQuery;
import dev.users.domain.UserId;
import dev.users.domain.Violations;
import io.grpc.Context;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * One ListUsers call: reads the directory a segment at a time and sends it as messages of up to
 * {@value #MESSAGE_SIZE} users, only as fast as the client takes them.
 *
 * <p>Each segment is one read of storage ({@link ListUsers#list(Caller, ListUsersQuery,
 * java.util.function.Consumer)}), resuming after the last id read (keyset pagination), whose users
 * become messages as they arrive. A message is sent at once while the client is ready, so that
 * sending overlaps the database producing the next rows; once the client is not ready, the rest
 * of the segment waits in memory and goes out as the client becomes ready again. The next segment
 * is read only when the last one has left and the client is ready. So a database connection is
 * held for one read of at most {@value #SEGMENT_SIZE} users and never while the call waits for a
 * slow client, and a slow reader costs the memory of at most one segment's messages (about 1.3 MB
 * on the wire for users of ordinary size, about 10 MB for users as large as the domain allows), not
 * a pooled connection for the length of the stream; the stream's deadline ends a reader that
 * stalls for good.
 *
 * <p>Everything runs in callbacks of the call (the method invocation, onReady, onCancel), which
 * grpc-java never runs concurrently for one call, so the state needs no lock.
 */
final class UserListing {

  /**
   * Users per message: about 120 KB, which amortises a message's fixed costs while a client holds
   * little at a time.
   */
  static final int MESSAGE_SIZE = 1_000;

  /**
   * Users per read of storage, the most a page may hold: a read streams its rows (a COPY in
   * PostgreSQL), so the database produces while this call sends, and each read costs a round trip
   * and a plan. Ten messages' worth keeps those costs to a few percent of a read, and what a slow
   * client can make the call hold to one segment.
   */
  static final int SEGMENT_SIZE = ListUsersQuery.MAX_LIMIT;

  /**
   * Bytes queued for the client below which the call sends the next message. grpc-java's default,
   * 32 KiB, is less than one message: the call would stall until each message had left before
   * sending the next. Two messages keep one in flight while the next is built.
   */
  static final int READY_THRESHOLD_BYTES = 256 * 1024;

  private final ListUsers list;
  private final Caller caller;
  private final ServerCallStreamObserver<ListUsersResponseEncoder.Message> responses;
  private final Context context;
  /** The last user read, or null before the first one of a listing started without a token. */
  private UserId after;
  private long remaining;
  /** Whether storage has nothing more for this call. */
  private boolean readAll;
  /** Whether the call is closed, or over for the client: nothing more is sent. */
  private boolean over;
  /** The message being written. */
  private final ListUsersResponseEncoder message = new ListUsersResponseEncoder();
  /** Messages of the last segment that the client was not ready for yet, in order. */
  private final ArrayDeque<ListUsersResponseEncoder.Message> pending = new ArrayDeque<>();

  private UserListing(
      ListUsers list, Caller caller, ServerCallStreamObserver<ListUsersResponseEncoder.Message> responses, UserId after,
      long remaining) {
    this.list = list;
    this.caller = caller;
    this.responses = responses;
    this.context = Context.current();
    this.after = after;
    this.remaining = remaining;
  }

  static void start(ListUsers list, Caller caller, ListUsersRequest request,
      ServerCallStreamObserver<ListUsersResponseEncoder.Message> responses) {
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
    while (!over) {
      // The context is cancelled at once on cancellation or deadline, while onCancel waits for
      // this callback to return.
      if (context.isCancelled()) {
        stop();
        return;
      }
      if (readAll && pending.isEmpty()) {
        over = true;
        responses.onCompleted();
        return;
      }
      if (!responses.isReady()) {
        return;
      }
      if (pending.isEmpty()) {
        readNextSegment();
      } else {
        responses.onNext(pending.poll());
      }
    }
  }

  private void stop() {
    over = true;
    pending.clear();
  }

  private void readNextSegment() {
    int limit = (int) Math.min(SEGMENT_SIZE, remaining);
    var read = new int[1];
    boolean hasMore;
    try {
      hasMore = list.list(caller, new ListUsersQuery(Optional.ofNullable(after), limit), user -> {
        if (message.users() == MESSAGE_SIZE) {
          // Another user follows this full message, so the listing goes on after it.
          send(true);
        }
        message.add(user);
        after = user.id();
        read[0]++;
      });
    } catch (CallOver e) {
      stop();
      return;
    } catch (RuntimeException e) {
      stop();
      responses.onError(CallFailures.report(e, UnaryOperator.identity()));
      return;
    }
    remaining -= read[0];
    // An empty segment ends the listing even if it claims more could follow: asking again with
    // the same position would only spin.
    readAll = !hasMore || read[0] == 0 || remaining == 0;
    send(hasMore && after != null);
  }

  /**
   * Sends the message filled so far, with a token to resume after its last user if asked, or
   * keeps it for when the client is ready.
   */
  private void send(boolean withToken) {
    // The rest of a segment is not worth building for a call that is over.
    if (context.isCancelled()) {
      throw new CallOver();
    }
    var built = message.finish(withToken ? PageTokens.encode(after) : "");
    if (pending.isEmpty() && responses.isReady()) {
      responses.onNext(built);
    } else {
      pending.add(built);
    }
  }

  /** Ends a segment's reading early because the call is over; nobody awaits its messages. */
  private static final class CallOver extends RuntimeException {
    CallOver() {
      super("the call is over", null, false, false);
    }
  }
}
