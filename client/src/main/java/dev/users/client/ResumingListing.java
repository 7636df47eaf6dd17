package dev.users.client;

import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.ListUsersResponse;
import dev.users.api.v1.User;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The users of a listing, one at a time, across as many ListUsers calls as it takes. Each call's
 * responses are read through grpc-java's blocking iterator, which asks the server for one message
 * only after the previous one was taken, so a slow reader slows the server instead of filling
 * memory. When a call breaks with UNAVAILABLE, the next call starts from the {@code
 * next_page_token} of the last message received: the users of that message were all received, the
 * ones after it were not, so none is skipped or repeated.
 */
final class ResumingListing implements Iterator<User>, AutoCloseable {

  private final Function<ListUsersRequest, Iterator<ListUsersResponse>> calls;
  private final RetryPolicy retryPolicy;
  private final int pageSize;
  private final Consumer<String> whereTheRestStarts;
  private final ArrayDeque<User> received = new ArrayDeque<>();
  private String pageToken;
  private long receivedCount;
  private boolean finished;
  /** Finished because the listing or the page size came to its end, not because it was closed. */
  private boolean complete;
  private boolean reported;
  private int failedCalls;
  private Iterator<ListUsersResponse> responses;
  private Context.CancellableContext callContext;

  /**
   * @param calls starts one ListUsers call
   * @param pageSize the most users to list, 0 for all
   * @param pageToken where to start, empty for the beginning
   * @param whereTheRestStarts told once, when every user was read, the token the rest of the
   *     directory starts after: empty when nothing follows
   */
  ResumingListing(Function<ListUsersRequest, Iterator<ListUsersResponse>> calls, RetryPolicy retryPolicy,
      int pageSize, String pageToken, Consumer<String> whereTheRestStarts) {
    this.calls = calls;
    this.retryPolicy = retryPolicy;
    this.pageSize = pageSize;
    this.pageToken = pageToken;
    this.whereTheRestStarts = whereTheRestStarts;
  }

  @Override
  public boolean hasNext() {
    while (received.isEmpty() && !finished) {
      receiveNextMessage();
    }
    if (received.isEmpty() && complete && !reported) {
      reported = true;
      whereTheRestStarts.accept(pageToken);
    }
    return !received.isEmpty();
  }

  @Override
  public User next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return received.removeFirst();
  }

  /** Cancels the call in progress, for a caller that stops reading before the end. */
  @Override
  public void close() {
    finished = true;
    if (callContext != null) {
      callContext.cancel(null);
    }
  }

  private void receiveNextMessage() {
    try {
      if (responses == null) {
        startCall();
      }
      if (!responses.hasNext()) {
        finished = true;
        complete = true;
        return;
      }
      var message = responses.next();
      received.addAll(message.getUsersList());
      receivedCount += message.getUsersCount();
      pageToken = message.getNextPageToken();
      failedCalls = 0;
      // An empty token marks the end of the directory: a break after it must not restart the listing.
      finished = pageToken.isEmpty() || (pageSize > 0 && receivedCount >= pageSize);
      complete = finished;
    } catch (StatusRuntimeException e) {
      responses = null;
      failedCalls++;
      var delay = retryPolicy.delayBeforeRetry(failedCalls, e.getStatus(), e.getTrailers());
      if (delay.isEmpty()) {
        finished = true;
        throw UsersClientException.from(e);
      }
      sleep(delay.get().toMillis());
    }
  }

  private void startCall() {
    var request = ListUsersRequest.newBuilder()
        .setPageToken(pageToken)
        .setPageSize(pageSize > 0 ? (int) (pageSize - receivedCount) : 0)
        .build();
    if (callContext != null) {
      callContext.cancel(null);
    }
    callContext = Context.current().withCancellation();
    var previous = callContext.attach();
    try {
      responses = calls.apply(request);
    } finally {
      callContext.detach(previous);
    }
  }

  private void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      finished = true;
      throw UsersClientException.from(Status.CANCELLED.withDescription("interrupted").withCause(e).asRuntimeException());
    }
  }
}
