package dev.users.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.ListUsersRequest;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.Channel;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevTokensTest {

  @TempDir
  Path dir;

  @Test
  void theServiceStartedWithThePrintedSettingsAcceptsTheMintedTokensAndTheirScopes() throws Exception {
    var env = new HashMap<String, String>();
    for (var line : run("keys", dir.toString()).split("\n")) {
      var setting = line.split("=", 2);
      env.put(setting[0], setting[1]);
    }
    env.put("USERS_STORAGE", "memory");
    env.put("USERS_GRPC_PORT", "0");
    var admin = run("token", dir.toString(), "ops", "users.admin").strip();
    var writer = run("token", dir.toString(), "signup", "users.write").strip();

    var server = UsersServer.start(Config.from(env));
    var channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create()).build();
    try {
      var created = stub(channel, admin).createUser(
          CreateUserRequest.newBuilder().setEmail("ada@example.org").setDisplayName("Ada").build());
      var listing = stub(channel, writer).listUsers(ListUsersRequest.getDefaultInstance());
      var refused = catchThrowableOfType(StatusRuntimeException.class, listing::next);

      assertThat(created.getUser().getDisplayName()).isEqualTo("Ada");
      assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.stop();
    }
  }

  @Test
  void withoutEnoughArgumentsItPrintsItsUsageAndExitsWith2() {
    var err = new ByteArrayOutputStream();

    int exitCode = DevTokens.run(new String[] {"token", dir.toString()}, new PrintStream(new ByteArrayOutputStream()),
        new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(exitCode).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("usage: DevTokens keys DIR");
  }

  private static String run(String... args) {
    var out = new ByteArrayOutputStream();
    int exitCode = DevTokens.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
    assertThat(exitCode).as("exit code of DevTokens %s", String.join(" ", args)).isZero();
    return out.toString(StandardCharsets.UTF_8);
  }

  private static UserServiceGrpc.UserServiceBlockingStub stub(Channel channel, String token) {
    var metadata = new Metadata();
    metadata.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return UserServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }
}
