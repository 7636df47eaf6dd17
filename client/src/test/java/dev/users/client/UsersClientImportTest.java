package dev.users.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Import sends items only as fast as the server takes them and reports each item's outcome. */
class UsersClientImportTest {

  private static final int ITEMS = 200;

  @Test
  void itemsAreReadOnlyAsFastAsTheServerAsksForThem() {
    var pulled = new AtomicInteger();
    var slowServer = new OneAtATimeImport(pulled);
    Iterable<ImportUsersRequest> items = () -> new Iterator<>() {
      @Override
      public boolean hasNext() {
        return pulled.get() < ITEMS;
      }

      @Override
      public ImportUsersRequest next() {
        var index = pulled.incrementAndGet();
        return ImportUsersRequest.newBuilder().setEmail("user" + index + "@example.com").setDisplayName("User").build();
      }
    };
    try (var service = new InProcessService(slowServer); var client = service.client()) {

      var outcome = client.importUsers(items);

      System.out.println("most items read ahead of what the server had received: " + slowServer.maxAhead.get());
      assertThat(outcome.createdCount()).isEqualTo(ITEMS);
      assertThat(slowServer.maxAhead.get()).isLessThanOrEqualTo(8);
    }
  }

  @Test
  void theOutcomeCountsCreatedAndRejectedItemsAndTypesEachFailure() {
    var server = new UserServiceGrpc.UserServiceImplBase() {
      @Override
      public StreamObserver<ImportUsersRequest> importUsers(StreamObserver<ImportUsersResponse> responses) {
        return new StreamObserver<>() {
          private final ImportUsersResponse.Builder outcome = ImportUsersResponse.newBuilder();
          private long index;

          @Override
          public void onNext(ImportUsersRequest item) {
            if (item.getEmail().isEmpty()) {
              reject(Code.INVALID_ARGUMENT, Any.pack(BadRequest.newBuilder()
                  .addFieldViolations(BadRequest.FieldViolation.newBuilder().setField("email").setDescription("is required"))
                  .build()));
            } else if (item.getEmail().startsWith("taken")) {
              reject(Code.ALREADY_EXISTS, Any.pack(ErrorInfo.newBuilder().setReason("EMAIL_TAKEN").setDomain("users.v1").build()));
            } else {
              outcome.setCreatedCount(outcome.getCreatedCount() + 1);
            }
            index++;
          }

          private void reject(Code code, Any detail) {
            outcome.setRejectedCount(outcome.getRejectedCount() + 1).addFailures(ImportUsersResponse.Failure.newBuilder()
                .setIndex(index)
                .setStatus(com.google.rpc.Status.newBuilder().setCode(code.getNumber()).setMessage("rejected").addDetails(detail)));
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {
            responses.onNext(outcome.build());
            responses.onCompleted();
          }
        };
      }
    };
    var items = Stream.of("ada@example.com", "", "taken@example.com", "grace@example.com")
        .map(email -> ImportUsersRequest.newBuilder().setEmail(email).setDisplayName("Someone").build());
    try (var service = new InProcessService(server); var client = service.client()) {

      var outcome = client.importUsers(items);

      assertThat(outcome.createdCount()).isEqualTo(2);
      assertThat(outcome.rejectedCount()).isEqualTo(2);
      assertThat(outcome.failures()).extracting(ImportOutcome.Failure::index).containsExactly(1L, 2L);
      assertThat(outcome.failures().get(0).error()).isInstanceOfSatisfying(UsersClientException.InvalidArgument.class,
          error -> assertThat(error.violations()).extracting(BadRequest.FieldViolation::getField).containsExactly("email"));
      assertThat(outcome.failures().get(1).error()).isInstanceOf(UsersClientException.EmailTaken.class);
    }
  }

  @Test
  void aFailureReadingTheItemsCancelsTheCallAndReachesTheCaller() {
    var server = new OneAtATimeImport(new AtomicInteger());
    Stream<ImportUsersRequest> items = IntStream.range(0, 10).mapToObj(index -> {
      if (index == 3) {
        throw new IllegalStateException("line 4 of the input file is not CSV");
      }
      return ImportUsersRequest.newBuilder().setEmail("user" + index + "@example.com").build();
    });
    try (var service = new InProcessService(server); var client = service.client()) {

      assertThatThrownBy(() -> client.importUsers(items))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("line 4 of the input file is not CSV");
    }
  }

  /**
   * Asks for one item at a time, as a server busy writing batches does, and records how far the
   * client's reading of the items ran ahead of what had arrived.
   */
  private static final class OneAtATimeImport extends UserServiceGrpc.UserServiceImplBase {
    private final AtomicInteger pulled;
    final AtomicInteger maxAhead = new AtomicInteger();

    OneAtATimeImport(AtomicInteger pulled) {
      this.pulled = pulled;
    }

    @Override
    public StreamObserver<ImportUsersRequest> importUsers(StreamObserver<ImportUsersResponse> responses) {
      var stream = (ServerCallStreamObserver<ImportUsersResponse>) responses;
      stream.disableAutoRequest();
      stream.request(1);
      return new StreamObserver<>() {
        private int received;

        @Override
        public void onNext(ImportUsersRequest item) {
          received++;
          maxAhead.accumulateAndGet(pulled.get() - received, Math::max);
          stream.request(1);
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          responses.onNext(ImportUsersResponse.newBuilder().setCreatedCount(received).build());
          responses.onCompleted();
        }
      };
    }
  }
}
