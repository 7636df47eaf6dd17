package dev.users.adapter.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.users.api.v1.ImportUsersRequest;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RequestDecodingTest {

  private static final Metadata.Key<String> REQUEST_ID =
      Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);

  /** Field 1 announces 5 bytes and the message ends after 1. */
  static final byte[] TRUNCATED = {0x0a, 0x05, 'a'};
  /** Field 1, a string, holding 0xC3 0x28: not UTF-8. */
  static final byte[] INVALID_UTF8 = {0x0a, 0x02, (byte) 0xc3, 0x28};

  @RegisterExtension
  final InProcessUserService service = new InProcessUserService();

  @RegisterExtension
  final LogCapture failureLog = LogCapture.of(CallFailures.class);

  @RegisterExtension
  final LogCapture accessLog = LogCapture.of("access");

  static Stream<Arguments> undecodableRequests() {
    var valid = ImportUsersRequest.newBuilder().setEmail("ada@example.org").setDisplayName("Ada").build().toByteArray();
    return Stream.of(
        Arguments.of("users.v1.UserService/GetUser", List.of(TRUNCATED), "input ended unexpectedly"),
        Arguments.of("users.v1.UserService/GetUser", List.of(INVALID_UTF8), "invalid UTF-8"),
        Arguments.of("users.v1.UserService/CreateUser", List.of(INVALID_UTF8), "invalid UTF-8"),
        Arguments.of("users.v1.UserService/ListUsers", List.of(TRUNCATED), "input ended unexpectedly"),
        Arguments.of("users.v1.UserService/ImportUsers", List.of(valid, INVALID_UTF8), "invalid UTF-8"));
  }

  @ParameterizedTest
  @MethodSource("undecodableRequests")
  void anUndecodableRequestIsInvalidArgumentWithOneLogLineUnderItsRequestId(
      String method, List<byte[]> messages, String problem) throws Exception {
    var headers = new Metadata();
    headers.put(REQUEST_ID, "trace-bytes");

    var outcome = RawCall.send(service.channel(), method, headers, messages);

    assertThat(outcome.status().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(outcome.status().getDescription())
        .startsWith("the request message cannot be decoded: ")
        .containsIgnoringCase(problem);
    assertThat(outcome.trailers().get(REQUEST_ID)).isEqualTo("trace-bytes");
    assertThat(accessLog.next().getFormattedMessage()).startsWith(method + " INVALID_ARGUMENT ");
    assertThat(failureLog.remaining()).singleElement().satisfies(event -> {
      assertThat(event.getLevel()).isEqualTo(Level.WARN);
      assertThat(event.getFormattedMessage()).startsWith("undecodable request to " + method + ": ");
      assertThat(event.getThrowableProxy()).isNull();
      assertThat(event.getMDCPropertyMap()).containsEntry("request_id", "trace-bytes");
    });
  }
}
