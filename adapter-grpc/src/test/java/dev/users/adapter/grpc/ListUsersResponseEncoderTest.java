package dev.users.adapter.grpc;

import static dev.users.adapter.grpc.TestUsers.aUser;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.users.api.v1.ListUsersResponse;
import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.User;
import io.grpc.Drainable;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ListUsersResponseEncoderTest {

  /** 100 code points of four UTF-8 bytes each. */
  private static final String LONGEST_NAME = "\uD83D\uDE00".repeat(DisplayName.MAX_LENGTH);

  /** 254 characters: a local part of 64, a domain of 189. */
  private static final String LONGEST_EMAIL = "a".repeat(64) + "@" + "b".repeat(185) + ".org";

  @Test
  void writesTheBytesTheGeneratedCodeWritesForTheSameUsers() throws InvalidProtocolBufferException {
    var users = List.of(
        aUser().build(),
        aUser().withEmail("zoë.ñúñez@exämple.org").withDisplayName("Zoë Ñúñez 李小龍").build(),
        aUser().withEmail(LONGEST_EMAIL).withDisplayName(LONGEST_NAME).withVersion(Long.MAX_VALUE).build(),
        aUser().withEmail("ü".repeat(64) + "@" + "é".repeat(185) + ".org").withDisplayName("é".repeat(100)).build(),
        aUser().withTimes(Instant.parse("2024-05-01T10:15:30Z"), Instant.parse("2024-05-01T10:15:30.000001Z"))
            .withVersion(36).build(),
        aUser().withTimes(Instant.EPOCH, Instant.ofEpochSecond(0, 999_999_000)).withVersion(1).build(),
        aUser().withTimes(Instant.parse("1969-12-31T23:59:59.5Z"), Instant.parse("0001-01-01T00:00:00Z")).build(),
        aUser().withId(new UUID(-1, -1).toString()).withVersion(35).build(),
        aUser().withId(new UUID(0, 1).toString()).withVersion(1_296).build());
    assertThat(users.get(2).email().value()).hasSize(Email.MAX_LENGTH);

    for (var token : List.of("", "AQGQtuBfKnw-mks8LR4Pmos")) {
      var encoder = new ListUsersResponseEncoder();
      users.forEach(encoder::add);

      var bytes = encoder.finish(token).toByteArray();

      assertThat(ListUsersResponse.parseFrom(bytes)).isEqualTo(generated(users, token));
      assertThat(bytes).isEqualTo(generated(users, token).toByteArray());
    }
  }

  @Test
  void writesAFullMessageAndTheEmptyOneAsTheGeneratedCodeDoes() {
    var users = TestUsers.directory(UserListing.MESSAGE_SIZE);
    var encoder = new ListUsersResponseEncoder();
    users.forEach(encoder::add);

    assertThat(encoder.users()).isEqualTo(UserListing.MESSAGE_SIZE);
    assertThat(encoder.finish("next").toByteArray()).isEqualTo(generated(users, "next").toByteArray());
    assertThat(encoder.users()).isZero();
    assertThat(encoder.finish("").toByteArray()).isEmpty();
  }

  @Test
  void startsEachMessageAfresh() {
    var encoder = new ListUsersResponseEncoder();
    encoder.add(aUser().build());
    encoder.finish("first");
    var second = aUser().withId(new UUID(7, 7).toString()).build();
    encoder.add(second);

    assertThat(encoder.finish("").toByteArray()).isEqualTo(generated(List.of(second), "").toByteArray());
  }

  @Test
  void streamsTheMessageForTheTransportWholeOrInPieces() throws IOException {
    var users = TestUsers.directory(3);
    var encoder = new ListUsersResponseEncoder();
    users.forEach(encoder::add);
    var message = encoder.finish("token");
    var expected = generated(users, "token").toByteArray();

    var drained = new ByteArrayOutputStream();
    var stream = ListUsersResponseEncoder.MARSHALLER.stream(message);
    assertThat(stream.available()).isEqualTo(expected.length);
    assertThat(((Drainable) stream).drainTo(drained)).isEqualTo(expected.length);
    assertThat(drained.toByteArray()).isEqualTo(expected);
    assertThat(stream.read()).isEqualTo(-1);

    assertThat(ListUsersResponseEncoder.MARSHALLER.stream(message).readAllBytes()).isEqualTo(expected);
    assertThat(ListUsersResponse.parseFrom(ListUsersResponseEncoder.MARSHALLER.stream(message)))
        .isEqualTo(generated(users, "token"));
  }

  private static ListUsersResponse generated(List<User> users, String token) {
    var message = ListUsersResponse.newBuilder().setNextPageToken(token);
    users.forEach(user -> message.addUsers(UserMessages.toProto(user)));
    return message.build();
  }
}
