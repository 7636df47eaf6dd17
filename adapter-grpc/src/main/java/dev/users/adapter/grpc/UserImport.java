package dev.users.adapter.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.CodedOutputStream;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.Status;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.application.access.AccessPolicy;
import dev.users.application.access.Caller;
import dev.users.application.importing.ImportItem;
import dev.users.application.importing.ImportOutcome;
import dev.users.application.importing.ImportUsers;
import dev.users.application.port.CallScope;
import io.grpc.Context;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.UnaryOperator;
import org.slf4j.MDC;

/**
 * One ImportUsers call: gathers the items into batches and imports each batch once it is full.
 *
 * <p>A full batch is written on a thread of its own while the call goes on receiving the next one,
 * so that the database storing one batch and this service reading and checking the next overlap
 * instead of taking turns. The next batch waits, when full, for the write before it to finish:
 * writes never overlap, and they are applied in the order of the stream.
 *
 * <p>Inbound flow control is manual: the call asks the client for {@value #REQUEST_SLICE} items at
 * a time, and for more only once those arrived and, when they filled a batch, the write before
 * that batch has finished. A call therefore holds at most two batches of items (one being
 * written, one filling) and one slice in transit however long the stream, and a client sending
 * faster than storage writes is slowed down by HTTP/2 flow control instead of filling the
 * server's memory.
 *
 * <p>The call's state is touched only in its callbacks, which grpc-java never runs concurrently for
 * one call, so it needs no lock; the writing thread only runs the use case and hands back its
 * outcomes through a future that the callbacks join.
 */
final class UserImport implements StreamObserver<ImportUsersRequest> {

  /**
   * Items per batch, written in one storage write: enough to amortise the write's round trips
   * and fixed costs (a COPY in the database), few enough that a batch of valid items stays under
   * 4 MiB and one failing for storage reasons loses little.
   */
  static final int BATCH_SIZE = 5_000;

  /**
   * Characters of email and display name after which a batch is imported before it is full, so
   * that items too long to be valid, which are only rejected when their batch is imported, cannot
   * make a batch large in memory: about {@value} characters plus one item.
   */
  static final int BATCH_CHARS = 1_000_000;

  /**
   * Items asked of the client at a time. The transport reads the items asked for ahead of the
   * call, each up to the largest message accepted; a small slice keeps those bounded.
   */
  static final int REQUEST_SLICE = 500;

  /**
   * Rejected items detailed in the response; the rest are only counted, so that neither the
   * call's memory nor the response grows with the number of bad items. Stated in users.proto.
   */
  static final int MAX_REPORTED_FAILURES = 1_000;

  /** Stated in users.proto, with the details of the answer. */
  static final String TOO_MANY_ITEMS = "TOO_MANY_ITEMS";

  /**
   * The most bytes of result a refused call carries in its status. The status travels in the
   * trailers, which clients bound (grpc-java: 8 KiB by default) and which base64 grows by a third;
   * the counts always fit, the failures as many as the rest allows. Stated in users.proto.
   */
  static final int MAX_RESULT_BYTES_IN_STATUS = 4_096;

  private final ImportUsers importUsers;
  private final Caller caller;
  private final long maxItems;
  private final ServerCallStreamObserver<ImportUsersResponse> responses;
  private final Context context;
  private final List<ImportItem> batch = new ArrayList<>(BATCH_SIZE);
  private final ImportUsersResponse.Builder result = ImportUsersResponse.newBuilder();
  /** The write of the last full batch, while its outcomes have not been counted. */
  private CompletableFuture<List<ImportOutcome>> writing;
  /** Characters of email and display name in {@link #batch}. */
  private long batchChars;
  /** Items asked of the client that have not arrived yet. */
  private int requested;
  /** The position in the stream of the first item of {@link #batch}. */
  private long nextIndex;
  private long received;
  private boolean stopped;

  private UserImport(
      ImportUsers importUsers, Caller caller, long maxItems,
      ServerCallStreamObserver<ImportUsersResponse> responses) {
    this.importUsers = importUsers;
    this.caller = caller;
    this.maxItems = maxItems;
    this.responses = responses;
    this.context = Context.current();
  }

  static StreamObserver<ImportUsersRequest> start(
      ImportUsers importUsers, Caller caller, long maxItems,
      ServerCallStreamObserver<ImportUsersResponse> responses) {
    var call = new UserImport(importUsers, caller, maxItems, responses);
    responses.disableAutoRequest();
    responses.setOnCancelHandler(call::stop);
    if (call.mayImport()) {
      call.requestSlice();
    }
    return call;
  }

  /** The items of a call that has already been answered: nothing is read or kept. */
  static StreamObserver<ImportUsersRequest> ignoringItems() {
    return new StreamObserver<>() {
      @Override
      public void onNext(ImportUsersRequest item) {}

      @Override
      public void onError(Throwable error) {}

      @Override
      public void onCompleted() {}
    };
  }

  @Override
  public void onNext(ImportUsersRequest item) {
    if (stopped) {
      return;
    }
    if (received == maxItems) {
      refuseTheRest();
      return;
    }
    received++;
    requested--;
    batch.add(new ImportItem(item.getEmail(), item.getDisplayName()));
    batchChars += item.getEmail().length() + item.getDisplayName().length();
    if ((batch.size() == BATCH_SIZE || batchChars >= BATCH_CHARS) && !startWrite()) {
      return;
    }
    if (requested == 0) {
      requestSlice();
    }
  }

  private void requestSlice() {
    requested = REQUEST_SLICE;
    responses.request(REQUEST_SLICE);
  }

  /** The client cancelled or failed: nothing more will arrive, and nobody awaits an answer. */
  @Override
  public void onError(Throwable error) {
    stop();
  }

  @Override
  public void onCompleted() {
    if (!stopped && finishWrite() && importBatch()) {
      responses.onNext(result.build());
      responses.onCompleted();
    }
  }

  /**
   * One item more than a call may carry: the items before it are processed as in any call, and
   * their result travels in the status, so that the client knows where to resume; nothing after
   * them is read.
   */
  private void refuseTheRest() {
    if (!finishWrite() || !importBatch()) {
      return;
    }
    stop();
    var status = Status.newBuilder()
        .setCode(Code.RESOURCE_EXHAUSTED_VALUE)
        .setMessage("an ImportUsers call takes at most " + maxItems + " items; the first " + maxItems
            + " were processed, as the ImportUsersResponse detail reports: send the rest in another call")
        .addDetails(Any.pack(ErrorInfo.newBuilder()
            .setReason(TOO_MANY_ITEMS)
            .setDomain(ErrorMapping.ERROR_DOMAIN)
            .putMetadata("max_items", Long.toString(maxItems))
            .build()))
        .addDetails(Any.pack(resultFittingInTrailers()))
        .build();
    responses.onError(StatusProto.toStatusRuntimeException(status));
  }

  /** The result with its first failures, as many as {@link #MAX_RESULT_BYTES_IN_STATUS} allows. */
  private ImportUsersResponse resultFittingInTrailers() {
    var full = result.build();
    if (full.getSerializedSize() <= MAX_RESULT_BYTES_IN_STATUS) {
      return full;
    }
    var fitting = full.toBuilder().clearFailures();
    int size = fitting.build().getSerializedSize();
    for (var failure : full.getFailuresList()) {
      // A repeated field's element costs its bytes, a one-byte tag and its length's varint.
      int cost = 1 + CodedOutputStream.computeUInt32SizeNoTag(failure.getSerializedSize()) + failure.getSerializedSize();
      if (size + cost > MAX_RESULT_BYTES_IN_STATUS) {
        break;
      }
      fitting.addFailures(failure);
      size += cost;
    }
    return fitting.build();
  }

  private void stop() {
    stopped = true;
    batch.clear();
    batchChars = 0;
  }

  /**
   * Refuses a caller who may not import before a single item is read, by the rule the use case
   * applies to every batch: a stream has no one request to refuse, and an empty one would
   * otherwise succeed without asking the use case at all.
   *
   * @return whether the call goes on
   */
  private boolean mayImport() {
    try {
      AccessPolicy.mayImport(caller);
      return true;
    } catch (RuntimeException e) {
      stop();
      responses.onError(CallFailures.report(e, UnaryOperator.identity()));
      return false;
    }
  }

  /**
   * Waits for the write before, then starts writing the batch in the background.
   *
   * @return whether the call goes on: false once it was cancelled or failed
   */
  private boolean startWrite() {
    if (!finishWrite() || context.isCancelled()) {
      stop();
      return false;
    }
    writing = inBackground(importUsers, caller, List.copyOf(batch));
    batch.clear();
    batchChars = 0;
    return true;
  }

  /**
   * Waits for the write in progress, if any, and counts its outcomes.
   *
   * @return whether the call goes on: false once it was cancelled or failed
   */
  private boolean finishWrite() {
    if (writing == null) {
      return true;
    }
    List<ImportOutcome> outcomes;
    try {
      outcomes = writing.join();
    } catch (CompletionException e) {
      stop();
      responses.onError(CallFailures.report(e.getCause(), UnaryOperator.identity()));
      return false;
    } finally {
      writing = null;
    }
    count(outcomes);
    return true;
  }

  /**
   * Writes the batch in this thread, for the last one of a call, whose outcomes the answer awaits.
   *
   * @return whether the call goes on: false once it was cancelled or failed
   */
  private boolean importBatch() {
    if (context.isCancelled()) {
      stop();
      return false;
    }
    if (batch.isEmpty()) {
      return true;
    }
    List<ImportOutcome> outcomes;
    try {
      outcomes = importUsers.importBatch(caller, List.copyOf(batch));
    } catch (RuntimeException e) {
      stop();
      responses.onError(CallFailures.report(e, UnaryOperator.identity()));
      return false;
    }
    count(outcomes);
    batch.clear();
    batchChars = 0;
    return true;
  }

  private void count(List<ImportOutcome> outcomes) {
    for (var outcome : outcomes) {
      switch (outcome) {
        case ImportOutcome.Created created -> result.setCreatedCount(result.getCreatedCount() + 1);
        case ImportOutcome.Rejected rejected -> {
          result.setRejectedCount(result.getRejectedCount() + 1);
          if (result.getFailuresCount() < MAX_REPORTED_FAILURES) {
            result.addFailures(ImportUsersResponse.Failure.newBuilder()
                .setIndex(nextIndex)
                .setStatus(ErrorMapping.toStatus(rejected.reason(), UnaryOperator.identity())));
          }
        }
      }
      nextIndex++;
    }
  }

  /**
   * Runs the use case on a virtual thread of its own, carrying what the callback's thread carries
   * for it: the call's scope (deadline and cancellation of its statements), the gRPC and
   * OpenTelemetry contexts (the SQL spans' parent) and the MDC (the logs' request and trace ids).
   */
  private static CompletableFuture<List<ImportOutcome>> inBackground(
      ImportUsers importUsers, Caller caller, List<ImportItem> items) {
    var scope = CallScope.current();
    var mdc = MDC.getCopyOfContextMap();
    var written = new CompletableFuture<List<ImportOutcome>>();
    Runnable write = () -> {
      if (mdc != null) {
        MDC.setContextMap(mdc);
      }
      try {
        written.complete(scope.call(() -> importUsers.importBatch(caller, items)));
      } catch (RuntimeException | Error e) {
        written.completeExceptionally(e);
      } finally {
        MDC.clear();
      }
    };
    Thread.ofVirtual().name("users-import-write").start(
        Context.current().wrap(io.opentelemetry.context.Context.current().wrap(write)));
    return written;
  }
}
