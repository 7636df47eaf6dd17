package dev.users.adapter.grpc;

import static dev.users.adapter.grpc.StatusDetails.badRequestFields;
import static dev.users.adapter.grpc.StatusDetails.failureOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.UserServiceGrpc;
import dev.users.application.importing.ImportItem;
import dev.users.application.importing.ImportOutcome;
import dev.users.application.importing.ImportUsers;
import dev.users.application.port.StorageUnavailableException;
import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.Violations;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ImportUsersTest {

  private static final int BATCH = UserImport.BATCH_SIZE;

  @RegisterExtension
  final InProcessUserService service = new InProcessUserService();

  /** Batch sizes the fake use case was called with. */
  private final List<Integer> batches = new CopyOnWriteArrayList<>();

  /** Validates like the real use case, and finds every email starting with "taken" taken. */
  private final ImportUsers importUsers = (caller, items) -> {
    batches.add(items.size());
    return items.stream().map(ImportUsersTest::outcome).toList();
  };

  @Test
  void reportsEachRejectedItemAtItsPositionInTheWholeStream() throws Exception {
    service.onImport(importUsers);
    var items = items(2 * BATCH + 200);
    items.set(10, item("not-an-email", "Ten"));
    items.set(BATCH + 200, item("taken@example.org", "In The Second Batch"));
    items.set(2 * BATCH + 199, item("last@example.org", "\u0007"));

    var response = importAll(items);

    assertThat(batches).containsExactly(BATCH, BATCH, 200);
    assertThat(response.getCreatedCount()).isEqualTo(2 * BATCH + 197);
    assertThat(response.getRejectedCount()).isEqualTo(3);
    assertThat(response.getFailuresList()).extracting(ImportUsersResponse.Failure::getIndex)
        .containsExactly(10L, BATCH + 200L, 2L * BATCH + 199);
    var invalidEmail = response.getFailures(0).getStatus();
    assertThat(invalidEmail.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    assertThat(badRequestFields(invalidEmail)).containsExactly("email");
    var taken = response.getFailures(1).getStatus();
    assertThat(taken.getCode()).isEqualTo(Status.Code.ALREADY_EXISTS.value());
    assertThat(StatusDetails.detail(taken, ErrorInfo.class).getReason()).isEqualTo("EMAIL_TAKEN");
    assertThat(badRequestFields(response.getFailures(2).getStatus())).containsExactly("display_name");
  }

  @Test
  void detailsTheFirstThousandRejectionsAndCountsThemAll() throws Exception {
    service.onImport(importUsers);
    var items = items(3_000);
    for (int i = 0; i < 1_500; i++) {
      items.set(2 * i, item("taken" + i + "@example.org", "Taken " + i));
    }

    var response = importAll(items);

    assertThat(response.getCreatedCount()).isEqualTo(1_500);
    assertThat(response.getRejectedCount()).isEqualTo(1_500);
    assertThat(response.getFailuresList()).hasSize(UserImport.MAX_REPORTED_FAILURES);
    assertThat(response.getFailuresList().getLast().getIndex()).isEqualTo(2L * (UserImport.MAX_REPORTED_FAILURES - 1));
  }

  @Test
  void anEmptyStreamCreatesNothing() throws Exception {
    service.onImport(importUsers);

    var response = importAll(List.of());

    assertThat(response).isEqualTo(ImportUsersResponse.getDefaultInstance());
    assertThat(batches).isEmpty();
  }

  @Test
  void aBatchThatCannotBeWrittenFailsTheCallWithUnavailable() {
    service.onImport((caller, items) -> {
      if (batches.size() == 1) {
        throw new StorageUnavailableException("connection refused", null);
      }
      return importUsers.importBatch(caller, items);
    });

    var failure = failureOf(() -> importAll(items(2 * BATCH + 200)));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(StatusDetails.detail(failure, RetryInfo.class).hasRetryDelay()).isTrue();
    assertThat(batches).containsExactly(BATCH);
  }

  @Test
  void receivesTheNextBatchWhileTheCurrentOneIsWrittenButNothingBeyond() throws Exception {
    var firstBatchWriting = new CountDownLatch(1);
    var firstBatchMayFinish = new CountDownLatch(1);
    var writing = new AtomicInteger();
    var overlappingWrites = new AtomicInteger();
    service.onImport((caller, items) -> {
      if (writing.incrementAndGet() > 1) {
        overlappingWrites.incrementAndGet();
      }
      try {
        if (batches.isEmpty()) {
          firstBatchWriting.countDown();
          Await.released(firstBatchMayFinish);
        }
        return importUsers.importBatch(caller, items);
      } finally {
        writing.decrementAndGet();
      }
    });
    var client = new PacedImport(items(3 * BATCH + 200));

    Await.released(firstBatchWriting);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (client.sent.get() < 2 * BATCH && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(5);
    }
    assertThat(client.sent).as("the second batch arrives while the first is written").hasValue(2 * BATCH);
    TimeUnit.MILLISECONDS.sleep(200);
    assertThat(client.sent).as("and nothing beyond it").hasValue(2 * BATCH);

    firstBatchMayFinish.countDown();
    assertThat(client.response.get(10, TimeUnit.SECONDS).getCreatedCount()).isEqualTo(3 * BATCH + 200);
    assertThat(batches).containsExactly(BATCH, BATCH, BATCH, 200);
    assertThat(overlappingWrites).as("one write at a time").hasValue(0);
  }

  @Test
  void importsABatchBeforeItIsFullWhenItsItemsAreLong() throws Exception {
    service.onImport(importUsers);
    var longName = "n".repeat(UserImport.BATCH_CHARS / 10);
    var items = IntStream.range(0, 25).mapToObj(i -> item("user" + i + "@example.org", longName)).toList();

    var response = importAll(items);

    assertThat(batches).containsExactly(10, 10, 5);
    assertThat(response.getRejectedCount()).isEqualTo(25);
  }

  @Test
  void writesNothingForAClientThatCancels() throws Exception {
    var probe = new CallProbe().expectingMessages(10);
    service.withInnermost(probe).onImport(importUsers);
    var response = new CompletableFuture<ImportUsersResponse>();
    var requests = (ClientCallStreamObserver<ImportUsersRequest>) service.asyncStub().importUsers(into(response));

    items(10).forEach(requests::onNext);
    probe.awaitMessagesHandled();
    requests.cancel("the client gave up", null);
    probe.awaitCancelHandled();

    assertThat(batches).isEmpty();
    assertThat(response).failsWithin(Duration.ofSeconds(10)).withThrowableThat().havingCause()
        .satisfies(cause -> assertThat(Status.fromThrowable(cause).getCode()).isEqualTo(Status.Code.CANCELLED));
  }

  @Test
  void aCallOverTheItemCapEndsResourceExhaustedAfterProcessingTheItemsWithinIt() throws Exception {
    service.withImportLimits(new ImportLimits(BATCH + 200, Duration.ofMinutes(1))).onImport(importUsers);
    var items = items(2 * BATCH + 200);
    items.set(BATCH + 150, item("taken@example.org", "In The Second Batch"));

    var failure = failureOf(() -> importAll(items));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    var tooMany = StatusDetails.detail(failure, ErrorInfo.class);
    assertThat(tooMany.getReason()).isEqualTo("TOO_MANY_ITEMS");
    assertThat(tooMany.getMetadataMap()).containsEntry("max_items", Integer.toString(BATCH + 200));
    var processed = StatusDetails.detail(failure, ImportUsersResponse.class);
    assertThat(processed.getCreatedCount()).isEqualTo(BATCH + 199);
    assertThat(processed.getRejectedCount()).isEqualTo(1);
    assertThat(processed.getFailuresList()).extracting(ImportUsersResponse.Failure::getIndex)
        .containsExactly(BATCH + 150L);
    assertThat(batches).containsExactly(BATCH, 200);
  }

  @Test
  void aRefusedCallKeepsItsResultSmallEnoughForTrailersAndStillCountsEveryItem() throws Exception {
    service.withImportLimits(new ImportLimits(1_000, Duration.ofMinutes(1))).onImport(importUsers);
    var items = items(1_001);
    for (int i = 0; i < 1_000; i++) {
      items.set(i, item("taken" + i + "@example.org", "Taken " + i));
    }

    var failure = failureOf(() -> importAll(items));

    var processed = StatusDetails.detail(failure, ImportUsersResponse.class);
    assertThat(processed.getRejectedCount()).isEqualTo(1_000);
    assertThat(processed.getSerializedSize()).isLessThanOrEqualTo(UserImport.MAX_RESULT_BYTES_IN_STATUS);
    assertThat(processed.getFailuresList()).isNotEmpty()
        .extracting(ImportUsersResponse.Failure::getIndex).startsWith(0L, 1L, 2L);
    System.out.printf("a refused import carries %d of its 1000 failures in %d bytes%n",
        processed.getFailuresCount(), processed.getSerializedSize());
  }

  @Test
  void aCallOfExactlyTheItemCapSucceeds() throws Exception {
    service.withImportLimits(new ImportLimits(700, Duration.ofMinutes(1))).onImport(importUsers);

    var response = importAll(items(700));

    assertThat(response.getCreatedCount()).isEqualTo(700);
  }

  @Test
  void aCallLongerThanTheDurationCapEndsDeadlineExceededWhateverDeadlineTheClientAsked() throws Exception {
    service.withImportLimits(new ImportLimits(1_000, Duration.ofMillis(300))).onImport(importUsers);
    var response = new CompletableFuture<ImportUsersResponse>();
    var requests = service.asyncStub().withDeadlineAfter(1, TimeUnit.MINUTES).importUsers(into(response));
    items(10).forEach(requests::onNext);
    long start = System.nanoTime();

    assertThat(response).failsWithin(Duration.ofSeconds(10)).withThrowableThat().havingCause()
        .satisfies(cause -> assertThat(Status.fromThrowable(cause).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    System.out.printf("import duration cap of 300 ms ended the call after %d ms%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
  }

  @Test
  void theDurationCapLeavesOtherMethodsAlone() {
    service.withImportLimits(new ImportLimits(1_000, Duration.ofMillis(1)))
        .onGet((caller, query) -> TestUsers.aUser().build());

    var user = service.blockingStub().getUser(
        GetUserRequest.newBuilder().setId(TestUsers.ID).build());

    assertThat(user.hasUser()).isTrue();
  }

  private ImportUsersResponse importAll(List<ImportUsersRequest> items)
      throws InterruptedException, ExecutionException, TimeoutException {
    var response = new CompletableFuture<ImportUsersResponse>();
    var requests = service.asyncStub().importUsers(into(response));
    items.forEach(requests::onNext);
    requests.onCompleted();
    try {
      return response.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException failure) {
        throw failure;
      }
      throw e;
    }
  }

  private static StreamObserver<ImportUsersResponse> into(CompletableFuture<ImportUsersResponse> response) {
    return new StreamObserver<>() {
      @Override
      public void onNext(ImportUsersResponse value) {
        response.complete(value);
      }

      @Override
      public void onError(Throwable error) {
        response.completeExceptionally(error);
      }

      @Override
      public void onCompleted() {}
    };
  }

  private static List<ImportUsersRequest> items(int count) {
    return IntStream.range(0, count)
        .mapToObj(i -> item("user" + i + "@example.org", "User " + i))
        .collect(Collectors.toCollection(ArrayList::new));
  }

  private static ImportUsersRequest item(String email, String displayName) {
    return ImportUsersRequest.newBuilder().setEmail(email).setDisplayName(displayName).build();
  }

  private static ImportOutcome outcome(ImportItem item) {
    var violations = new Violations();
    var email = violations.check(() -> new Email(item.email()));
    var name = violations.check(() -> new DisplayName(item.displayName()));
    var invalid = violations.failure();
    if (invalid.isPresent()) {
      return new ImportOutcome.Rejected(invalid.get());
    }
    if (email.value().startsWith("taken")) {
      return new ImportOutcome.Rejected(new EmailAlreadyTakenException(email));
    }
    return new ImportOutcome.Created(TestUsers.aUser().withEmail(email.value()).withDisplayName(name.value()).build());
  }

  /** A client that sends only while the server asks for more, as a well-behaved client does. */
  private final class PacedImport {

    final AtomicInteger sent = new AtomicInteger();
    final CompletableFuture<ImportUsersResponse> response = new CompletableFuture<>();
    private final List<ImportUsersRequest> items;
    private final ClientCall<ImportUsersRequest, ImportUsersResponse> call;
    private boolean halfClosed;

    PacedImport(List<ImportUsersRequest> items) {
      this.items = items;
      this.call = service.channel().newCall(UserServiceGrpc.getImportUsersMethod(), CallOptions.DEFAULT);
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onReady() {
          sendWhileReady();
        }

        @Override
        public void onMessage(ImportUsersResponse message) {
          response.complete(message);
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
          if (!status.isOk()) {
            response.completeExceptionally(status.asRuntimeException(trailers));
          }
        }
      }, new Metadata());
      call.request(1);
    }

    private void sendWhileReady() {
      while (sent.get() < items.size() && call.isReady()) {
        call.sendMessage(items.get(sent.getAndIncrement()));
      }
      if (sent.get() == items.size() && !halfClosed) {
        halfClosed = true;
        call.halfClose();
      }
    }
  }
}
