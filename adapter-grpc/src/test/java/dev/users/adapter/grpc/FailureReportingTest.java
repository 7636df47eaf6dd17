package dev.users.adapter.grpc;

import static dev.users.adapter.grpc.StatusDetails.failureOf;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import com.google.rpc.RetryInfo;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.ListUsersRequest;
import dev.users.application.port.StorageUnavailableException;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every RPC, unary or streaming, reports its failures the same way: mapped by ErrorMapping, which
 * logs nothing, and logged in one place, once, under the call's request id.
 */
class FailureReportingTest {

  private static final Metadata.Key<String> REQUEST_ID =
      Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);

  @RegisterExtension
  final InProcessUserService service = new InProcessUserService();

  /** Every logger of the adapter except the access log. */
  @RegisterExtension
  final LogCapture adapterLog = LogCapture.of("dev.users.adapter.grpc");

  @RegisterExtension
  final LogCapture accessLog = LogCapture.of("access");

  @Test
  void mappingAFailureLogsNothing() {
    var status = ErrorMapping.toStatus(new IllegalStateException("connection to db.internal lost"), UnaryOperator.identity());

    assertThat(status.getCode()).isEqualTo(Status.Code.INTERNAL.value());
    assertThat(adapterLog.remaining()).isEmpty();
  }

  @Test
  void anOutageIsAnsweredUnavailableWithRetryInfoAndLoggedAtDebugAtMost() throws InterruptedException {
    service.onGet((caller, query) -> {
      throw new StorageUnavailableException("storage unavailable: connection refused", null);
    });

    var failure = failureOf(() -> withRequestId("trace-outage").getUser(GetUserRequest.newBuilder().setId(TestUsers.ID).build()));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(StatusDetails.detail(StatusDetails.of(failure), RetryInfo.class).getRetryDelay().getSeconds()).isEqualTo(1);
    accessLog.next();
    assertThat(adapterLog.remaining()).allSatisfy(event -> assertThat(event.getLevel()).isEqualTo(Level.DEBUG));
  }

  @Test
  void anUnexpectedFailureOfAUnaryCallIsLoggedOnceWithTheRequestId() throws InterruptedException {
    service.onGet((caller, query) -> {
      throw new IllegalStateException("password=hunter2 rejected by db.internal");
    });

    var failure = failureOf(() -> withRequestId("trace-unary").getUser(GetUserRequest.newBuilder().setId(TestUsers.ID).build()));

    assertAnsweredInternalAndLoggedOnce(failure, "trace-unary");
  }

  @Test
  void anUnexpectedFailureOfAListingIsLoggedOnceWithTheRequestId() throws InterruptedException {
    service.onList((caller, query, each) -> {
      throw new IllegalStateException("password=hunter2 rejected by db.internal");
    });

    var failure = failureOf(() -> withRequestId("trace-list").listUsers(ListUsersRequest.getDefaultInstance()).next());

    assertAnsweredInternalAndLoggedOnce(failure, "trace-list");
  }

  @Test
  void anUnexpectedFailureOfAnImportIsLoggedOnceWithTheRequestId() throws Exception {
    service.onImport((caller, items) -> {
      throw new IllegalStateException("password=hunter2 rejected by db.internal");
    });
    var result = new CompletableFuture<ImportUsersResponse>();
    var requests = service.asyncStub()
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(requestId("trace-import")))
        .importUsers(new StreamObserver<>() {
          @Override
          public void onNext(ImportUsersResponse response) {
            result.complete(response);
          }

          @Override
          public void onError(Throwable error) {
            result.completeExceptionally(error);
          }

          @Override
          public void onCompleted() {}
        });
    requests.onNext(ImportUsersRequest.newBuilder().setEmail("ada@example.org").setDisplayName("Ada").build());
    requests.onCompleted();

    var failure = failureOf(() -> {
      try {
        result.get(10, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        throw e.getCause();
      }
    });

    assertAnsweredInternalAndLoggedOnce(failure, "trace-import");
  }

  private void assertAnsweredInternalAndLoggedOnce(StatusRuntimeException failure, String requestId)
      throws InterruptedException {
    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(failure.getStatus().getDescription()).isEqualTo("internal error");
    assertThat(accessLog.next().getFormattedMessage()).contains("INTERNAL");
    assertThat(adapterLog.remaining()).singleElement().satisfies(event -> {
      assertThat(event.getLevel()).isEqualTo(Level.ERROR);
      assertThat(event.getThrowableProxy().getMessage()).isEqualTo("password=hunter2 rejected by db.internal");
      assertThat(event.getMDCPropertyMap()).containsEntry("request_id", requestId);
    });
  }

  private dev.users.api.v1.UserServiceGrpc.UserServiceBlockingStub withRequestId(String requestId) {
    return service.blockingStub()
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(requestId(requestId)))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static Metadata requestId(String value) {
    var headers = new Metadata();
    headers.put(REQUEST_ID, value);
    return headers;
  }
}
