package dev.users.adapter.grpc;

import com.google.protobuf.Timestamp;
import dev.users.domain.User;
import java.time.Instant;

/** Users as the API shows them. */
final class UserMessages {

  private UserMessages() {}

  static dev.users.api.v1.User toProto(User user) {
    return dev.users.api.v1.User.newBuilder()
        .setId(user.id().toString())
        .setEmail(user.email().value())
        .setDisplayName(user.displayName().value())
        .setCreateTime(timestamp(user.createTime()))
        .setUpdateTime(timestamp(user.updateTime()))
        .setEtag(user.etag().toString())
        .build();
  }

  private static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
  }
}
