package dev.users.adapter.grpc;

import static dev.users.adapter.grpc.StatusDetails.badRequestFields;
import static dev.users.adapter.grpc.StatusDetails.failureOf;
import static dev.users.adapter.grpc.TestUsers.aUser;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.FieldMask;
import com.google.protobuf.Timestamp;
import com.google.rpc.ErrorInfo;
import com.google.rpc.ResourceInfo;
import com.google.rpc.RetryInfo;
import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.DeleteUserRequest;
import dev.users.api.v1.DeleteUserResponse;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.User;
import dev.users.api.v1.UserServiceGrpc;
import dev.users.application.access.PermissionDeniedException;
import dev.users.application.delete.DeleteUserCommand;
import dev.users.application.get.GetUserQuery;
import dev.users.application.port.IdempotencyKey;
import dev.users.application.port.StorageUnavailableException;
import dev.users.application.register.RegisterUserCommand;
import dev.users.application.update.UpdateUserCommand;
import dev.users.application.update.UserChange;
import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.Etag;
import dev.users.domain.UserId;
import dev.users.domain.UserNotFoundException;
import dev.users.domain.VersionConflictException;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class UserGrpcServiceTest {

  private static final String OTHER_ID = "0190b6e0-5f2a-7c3e-9a4b-000000000042";

  @RegisterExtension
  final InProcessUserService service = new InProcessUserService();

  @RegisterExtension
  final LogCapture errorLog = LogCapture.of(CallFailures.class);

  @Nested
  class CreateUser {

    @Test
    void registersTheUserAndReturnsEveryFieldOfIt() {
      var received = new AtomicReference<RegisterUserCommand>();
      service.onRegister((caller, command) -> {
        received.set(command);
        return aUser().withEmail("ada@example.org").withDisplayName("Ada Lovelace").withVersion(1).build();
      });

      var response = service.blockingStub().createUser(CreateUserRequest.newBuilder()
          .setEmail(" ada@example.org ").setDisplayName("Ada Lovelace").setIdempotencyKey("retry-key-1").build());

      assertThat(received.get()).isEqualTo(new RegisterUserCommand(
          new Email("ada@example.org"), new DisplayName("Ada Lovelace"), Optional.of(new IdempotencyKey("retry-key-1"))));
      assertThat(response.getUser()).isEqualTo(User.newBuilder()
          .setId(TestUsers.ID)
          .setEmail("ada@example.org")
          .setDisplayName("Ada Lovelace")
          .setCreateTime(Timestamp.newBuilder().setSeconds(TestUsers.CREATED.getEpochSecond()).setNanos(123_456_000))
          .setUpdateTime(Timestamp.newBuilder().setSeconds(TestUsers.UPDATED.getEpochSecond()).setNanos(654_321_000))
          .setEtag("1")
          .build());
    }

    @Test
    void anEmptyIdempotencyKeyMeansNone() {
      var received = new AtomicReference<RegisterUserCommand>();
      service.onRegister((caller, command) -> {
        received.set(command);
        return aUser().build();
      });

      service.blockingStub().createUser(
          CreateUserRequest.newBuilder().setEmail("ada@example.org").setDisplayName("Ada").build());

      assertThat(received.get().idempotencyKey()).isEmpty();
    }

    @Test
    void reportsEveryInvalidFieldAtOnce() {
      var failure = failureOf(() -> service.blockingStub().createUser(CreateUserRequest.newBuilder()
          .setEmail("not-an-email").setDisplayName(" ").setIdempotencyKey("x".repeat(129)).build()));

      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(badRequestFields(failure)).containsExactly("email", "display_name", "idempotency_key");
      assertThat(failure.getStatus().getDescription()).startsWith("invalid request: email: ");
    }

    @Test
    void aTakenEmailIsAlreadyExistsWithReasonEmailTaken() {
      service.onRegister((caller, command) -> {
        throw new EmailAlreadyTakenException(command.email());
      });

      var failure = failureOf(() -> service.blockingStub().createUser(
          CreateUserRequest.newBuilder().setEmail("Ada@Example.org").setDisplayName("Ada").build()));

      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
      var info = StatusDetails.detail(failure, ErrorInfo.class);
      assertThat(info.getReason()).isEqualTo("EMAIL_TAKEN");
      assertThat(info.getDomain()).isEqualTo("users.v1");
      assertThat(info.getMetadataMap()).containsEntry("email", "Ada@Example.org");
    }
  }

  @Nested
  class GetUser {

    @Test
    void returnsTheUserWithTheId() {
      var received = new AtomicReference<GetUserQuery>();
      service.onGet((caller, query) -> {
        received.set(query);
        return aUser().withId(OTHER_ID).withVersion(40).build();
      });

      var user = service.blockingStub().getUser(GetUserRequest.newBuilder().setId(OTHER_ID).build()).getUser();

      assertThat(received.get()).isEqualTo(new GetUserQuery(UserId.parse(OTHER_ID)));
      assertThat(user.getId()).isEqualTo(OTHER_ID);
      assertThat(user.getEtag()).isEqualTo("14");
    }

    @Test
    void anIdThatIsNotAUuidIsInvalidArgument() {
      var failure = failureOf(() -> service.blockingStub().getUser(GetUserRequest.newBuilder().setId("42").build()));

      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(badRequestFields(failure)).containsExactly("id");
    }

    @Test
    void anUnknownIdIsNotFoundNamingTheResource() {
      service.onGet((caller, query) -> {
        throw new UserNotFoundException(query.id());
      });

      var failure = failureOf(() -> service.blockingStub().getUser(GetUserRequest.newBuilder().setId(OTHER_ID).build()));

      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
      var resource = StatusDetails.detail(failure, ResourceInfo.class);
      assertThat(resource.getResourceType()).isEqualTo("users.v1.User");
      assertThat(resource.getResourceName()).isEqualTo(OTHER_ID);
    }
  }

  @Nested
  class UpdateUser {

    @Test
    void changesOnlyTheFieldsOfTheMask() {
      var received = new AtomicReference<UpdateUserCommand>();
      service.onUpdate((caller, command) -> {
        received.set(command);
        return aUser().withDisplayName("Countess of Lovelace").withVersion(4).build();
      });

      var user = service.blockingStub().updateUser(UpdateUserRequest.newBuilder()
          .setUser(User.newBuilder().setId(TestUsers.ID).setEtag("3").setEmail("ignored").setDisplayName("Countess of Lovelace"))
          .setUpdateMask(FieldMask.newBuilder().addPaths("display_name"))
          .build()).getUser();

      assertThat(received.get()).isEqualTo(new UpdateUserCommand(
          UserId.parse(TestUsers.ID),
          Optional.of(new Etag(3)),
          List.of(new UserChange.Rename(new DisplayName("Countess of Lovelace")))));
      assertThat(user.getDisplayName()).isEqualTo("Countess of Lovelace");
      assertThat(user.getEtag()).isEqualTo("4");
    }

    @Test
    void anAbsentMaskChangesEveryMutableField() {
      var received = new AtomicReference<UpdateUserCommand>();
      service.onUpdate((caller, command) -> {
        received.set(command);
        return aUser().build();
      });

      service.blockingStub().updateUser(UpdateUserRequest.newBuilder()
          .setUser(User.newBuilder().setId(TestUsers.ID).setEmail("ada@example.org").setDisplayName("Ada"))
          .build());

      assertThat(received.get().ifMatch()).isEmpty();
      assertThat(received.get().changes()).containsExactly(
          new UserChange.ChangeEmail(new Email("ada@example.org")), new UserChange.Rename(new DisplayName("Ada")));
    }

    @Test
    void reportsInvalidUserFieldsUnderUserAndMaskProblemsUnderUpdateMask() {
      var failure = failureOf(() -> service.blockingStub().updateUser(UpdateUserRequest.newBuilder()
          .setUser(User.newBuilder().setId("nope").setEtag("!").setEmail("no-at-sign"))
          .setUpdateMask(FieldMask.newBuilder().addPaths("email").addPaths("nickname"))
          .build()));

      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(badRequestFields(failure)).containsExactly("user.id", "user.etag", "update_mask", "user.email");
    }

    @Test
    void aStaleEtagIsAbortedWithReasonEtagMismatch() {
      service.onUpdate((caller, command) -> {
        throw new VersionConflictException(command.id());
      });

      var failure = failureOf(() -> service.blockingStub().updateUser(UpdateUserRequest.newBuilder()
          .setUser(User.newBuilder().setId(TestUsers.ID).setEtag("2").setDisplayName("Ada"))
          .setUpdateMask(FieldMask.newBuilder().addPaths("display_name"))
          .build()));

      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.ABORTED);
      var info = StatusDetails.detail(failure, ErrorInfo.class);
      assertThat(info.getReason()).isEqualTo("ETAG_MISMATCH");
      assertThat(info.getDomain()).isEqualTo("users.v1");
    }

    @Test
    void anUnknownIdIsNotFound() {
      service.onUpdate((caller, command) -> {
        throw new UserNotFoundException(command.id());
      });

      var failure = failureOf(() -> service.blockingStub().updateUser(UpdateUserRequest.newBuilder()
          .setUser(User.newBuilder().setId(OTHER_ID).setDisplayName("Ada"))
          .setUpdateMask(FieldMask.newBuilder().addPaths("display_name"))
          .build()));

      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(StatusDetails.detail(failure, ResourceInfo.class).getResourceName()).isEqualTo(OTHER_ID);
    }

    @Test
    void anEmailOfAnotherUserIsAlreadyExists() {
      service.onUpdate((caller, command) -> {
        throw new EmailAlreadyTakenException(new Email("grace@example.org"));
      });

      var failure = failureOf(() -> service.blockingStub().updateUser(UpdateUserRequest.newBuilder()
          .setUser(User.newBuilder().setId(TestUsers.ID).setEmail("grace@example.org"))
          .setUpdateMask(FieldMask.newBuilder().addPaths("email"))
          .build()));

      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
      assertThat(StatusDetails.detail(failure, ErrorInfo.class).getReason()).isEqualTo("EMAIL_TAKEN");
    }
  }

  @Nested
  class DeleteUser {

    @Test
    void deletesTheUserIfTheEtagMatches() {
      var received = new AtomicReference<DeleteUserCommand>();
      service.onDelete((caller, command) -> received.set(command));

      var response = service.blockingStub().deleteUser(
          DeleteUserRequest.newBuilder().setId(TestUsers.ID).setEtag("3").build());

      assertThat(response).isEqualTo(DeleteUserResponse.getDefaultInstance());
      assertThat(received.get()).isEqualTo(new DeleteUserCommand(UserId.parse(TestUsers.ID), Optional.of(new Etag(3))));
    }

    @Test
    void reportsAMalformedIdAndEtagTogether() {
      var failure = failureOf(() -> service.blockingStub().deleteUser(
          DeleteUserRequest.newBuilder().setId("x").setEtag("-1").build()));

      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(badRequestFields(failure)).containsExactly("id", "etag");
    }

    @Test
    void anUnknownIdIsNotFound() {
      service.onDelete((caller, command) -> {
        throw new UserNotFoundException(command.id());
      });

      var failure = failureOf(() -> service.blockingStub().deleteUser(DeleteUserRequest.newBuilder().setId(OTHER_ID).build()));

      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(StatusDetails.detail(failure, ResourceInfo.class).getResourceType()).isEqualTo("users.v1.User");
    }

    @Test
    void aStaleEtagIsAborted() {
      service.onDelete((caller, command) -> {
        throw new VersionConflictException(command.id());
      });

      var failure = failureOf(() -> service.blockingStub().deleteUser(
          DeleteUserRequest.newBuilder().setId(TestUsers.ID).setEtag("2").build()));

      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.ABORTED);
      assertThat(StatusDetails.detail(failure, ErrorInfo.class).getReason()).isEqualTo("ETAG_MISMATCH");
    }
  }

  @Nested
  class ServiceWideFailures {

    @Test
    void aCallerWithoutTheRightIsPermissionDeniedNamingTheOperation() {
      service.onDelete((caller, command) -> {
        throw new PermissionDeniedException("DeleteUser", "scope users.write or users.admin");
      });

      var failure = failureOf(() -> service.blockingStub().deleteUser(
          DeleteUserRequest.newBuilder().setId(TestUsers.ID).build()));

      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(failure.getStatus().getDescription()).isEqualTo("DeleteUser needs scope users.write or users.admin");
      var info = StatusDetails.detail(failure, ErrorInfo.class);
      assertThat(info.getReason()).isEqualTo("PERMISSION_DENIED");
      assertThat(info.getMetadataMap()).containsEntry("operation", "DeleteUser");
    }

    @Test
    void aCallThatNoAuthenticationStepPassedIsRefusedRatherThanServedAsSomebody() throws Exception {
      var name = InProcessServerBuilder.generateName();
      var unguarded = InProcessServerBuilder.forName(name)
          .addService(new UserGrpcService(null, (caller, query) -> {
            throw new AssertionError("GetUser was not expected to reach its use case");
          }, null, null, null, null, new ImportLimits(1, Duration.ofMinutes(1))))
          .build()
          .start();
      var channel = InProcessChannelBuilder.forName(name).build();
      try {
        var failure = failureOf(() -> UserServiceGrpc.newBlockingStub(channel)
            .getUser(GetUserRequest.newBuilder().setId(TestUsers.ID).build()));

        assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      } finally {
        channel.shutdownNow();
        unguarded.shutdownNow();
      }
    }

    @Test
    void unreachableStorageIsUnavailableWithAGenericMessageAndARetryDelay() {
      service.onGet((caller, query) -> {
        throw new StorageUnavailableException(
            "connection to db-primary.internal:5432 refused", new SQLException("FATAL: too many connections"));
      });

      var failure = failureOf(() -> service.blockingStub().getUser(GetUserRequest.newBuilder().setId(TestUsers.ID).build()));

      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(failure.getStatus().getDescription())
          .isEqualTo("the service is temporarily unavailable; retry with backoff");
      assertThat(StatusDetails.detail(failure, RetryInfo.class).getRetryDelay().getSeconds()).isEqualTo(1);
    }

    @Test
    void anUnexpectedFailureIsInternalWithAGenericMessageAndIsLoggedWithItsCause() throws InterruptedException {
      service.onRegister((caller, command) -> {
        throw new IllegalStateException("SELECT * FROM users failed on db-primary.internal");
      });

      var failure = failureOf(() -> service.blockingStub().createUser(
          CreateUserRequest.newBuilder().setEmail("ada@example.org").setDisplayName("Ada").build()));

      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
      assertThat(failure.getStatus().getDescription()).isEqualTo("internal error");
      assertThat(StatusDetails.of(failure).getDetailsList()).isEmpty();
      var logged = errorLog.next();
      assertThat(logged.getLevel()).hasToString("ERROR");
      assertThat(logged.getThrowableProxy().getMessage()).contains("SELECT * FROM users");
    }
  }
}
