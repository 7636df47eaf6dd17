package dev.users.adapter.grpc;

import dev.users.domain.User;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.UUID;

/**
 * Writes {@code users.v1.ListUsersResponse} messages in their protobuf wire form straight from
 * domain users: the bytes {@code UserMessages.toProto} users in a generated {@code
 * ListUsersResponse} would serialize to, without the builders, {@code Timestamp}s and strings of
 * that route.
 *
 * <p>Listing is the one path where that route's cost decided the throughput: per user it built
 * seven objects and three strings (id, etag, two timestamps) and then computed every string's
 * UTF-8 length once to size the message and encoded it again to write it. Here the id and the
 * etag are written as ASCII digits, each text is encoded once, and a message is written as its
 * users arrive, so sending it is one copy into the transport's buffers.
 *
 * <p>Fields go in field-number order and default values (empty strings, zero seconds or nanos)
 * are left out, as the generated code does; {@code ListUsersResponseEncoderTest} holds the bytes
 * to those of the generated code.
 */
final class ListUsersResponseEncoder {

  /** Sends encoded messages as they are; the server never parses a response. */
  static final MethodDescriptor.Marshaller<Message> MARSHALLER = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(Message message) {
      return new MessageStream(message);
    }

    @Override
    public Message parse(InputStream stream) {
      try {
        var bytes = stream.readAllBytes();
        return new Message(bytes, bytes.length);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  private static final int USERS = 1;
  private static final int NEXT_PAGE_TOKEN = 2;
  private static final int USER_ID = 1;
  private static final int USER_EMAIL = 2;
  private static final int USER_DISPLAY_NAME = 3;
  private static final int USER_CREATE_TIME = 4;
  private static final int USER_UPDATE_TIME = 5;
  private static final int USER_ETAG = 6;
  private static final int TIMESTAMP_SECONDS = 1;
  private static final int TIMESTAMP_NANOS = 2;

  private static final int WIRE_VARINT = 0;
  private static final int WIRE_LENGTH_DELIMITED = 2;

  /** A UUID's canonical form: 32 hex digits and four hyphens. */
  private static final int ID_LENGTH = 36;

  private static final byte[] DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz".getBytes(StandardCharsets.US_ASCII);

  /** Room for the users of an ordinary message at the start, so that the buffer rarely grows. */
  private static final int INITIAL_CAPACITY = 160 * 1024;

  private byte[] buffer = new byte[INITIAL_CAPACITY];
  private int position;
  private int users;

  /** Appends {@code user} to the message being written. */
  void add(User user) {
    byte[] email = utf8(user.email().value());
    byte[] displayName = utf8(user.displayName().value());
    long version = user.version();
    int etagLength = base36Length(version);
    int createTimeSize = timestampSize(user.createTime());
    int updateTimeSize = timestampSize(user.updateTime());
    int size = 1 + 1 + ID_LENGTH
        + bytesFieldSize(email.length)
        + bytesFieldSize(displayName.length)
        + 1 + varintSize(createTimeSize) + createTimeSize
        + 1 + varintSize(updateTimeSize) + updateTimeSize
        + 1 + varintSize(etagLength) + etagLength;
    ensureRoom(1 + varintSize(size) + size);

    writeTag(USERS, WIRE_LENGTH_DELIMITED);
    writeVarint(size);
    writeTag(USER_ID, WIRE_LENGTH_DELIMITED);
    writeVarint(ID_LENGTH);
    writeId(user.id().value());
    writeBytesField(USER_EMAIL, email);
    writeBytesField(USER_DISPLAY_NAME, displayName);
    writeTimestamp(USER_CREATE_TIME, user.createTime(), createTimeSize);
    writeTimestamp(USER_UPDATE_TIME, user.updateTime(), updateTimeSize);
    writeTag(USER_ETAG, WIRE_LENGTH_DELIMITED);
    writeVarint(etagLength);
    writeBase36(version, etagLength);
    users++;
  }

  /** The users added since the last message was finished. */
  int users() {
    return users;
  }

  /**
   * Ends the message with {@code nextPageToken} (none when empty) and starts the next one.
   */
  Message finish(String nextPageToken) {
    byte[] token = utf8(nextPageToken);
    ensureRoom(bytesFieldSize(token.length));
    writeBytesField(NEXT_PAGE_TOKEN, token);
    var message = new Message(buffer, position);
    buffer = new byte[Math.max(INITIAL_CAPACITY, position)];
    position = 0;
    users = 0;
    return message;
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** A proto3 string field: absent when empty. */
  private static int bytesFieldSize(int length) {
    return length == 0 ? 0 : 1 + varintSize(length) + length;
  }

  private void writeBytesField(int field, byte[] value) {
    if (value.length == 0) {
      return;
    }
    writeTag(field, WIRE_LENGTH_DELIMITED);
    writeVarint(value.length);
    System.arraycopy(value, 0, buffer, position, value.length);
    position += value.length;
  }

  /** A {@code google.protobuf.Timestamp}: always present, its zero fields absent. */
  private static int timestampSize(Instant instant) {
    long seconds = instant.getEpochSecond();
    int nanos = instant.getNano();
    return (seconds == 0 ? 0 : 1 + varintSize(seconds)) + (nanos == 0 ? 0 : 1 + varintSize(nanos));
  }

  private void writeTimestamp(int field, Instant instant, int size) {
    writeTag(field, WIRE_LENGTH_DELIMITED);
    writeVarint(size);
    long seconds = instant.getEpochSecond();
    if (seconds != 0) {
      writeTag(TIMESTAMP_SECONDS, WIRE_VARINT);
      writeVarint(seconds);
    }
    int nanos = instant.getNano();
    if (nanos != 0) {
      writeTag(TIMESTAMP_NANOS, WIRE_VARINT);
      writeVarint(nanos);
    }
  }

  /** The canonical form {@link UUID#toString} gives, lower-case hex in groups of 8-4-4-4-12. */
  private void writeId(UUID id) {
    long high = id.getMostSignificantBits();
    long low = id.getLeastSignificantBits();
    writeHex(high >>> 32, 8);
    buffer[position++] = '-';
    writeHex(high >>> 16, 4);
    buffer[position++] = '-';
    writeHex(high, 4);
    buffer[position++] = '-';
    writeHex(low >>> 48, 4);
    buffer[position++] = '-';
    writeHex(low, 12);
  }

  /** The low {@code digits} hex digits of {@code value}. */
  private void writeHex(long value, int digits) {
    for (int i = digits - 1; i >= 0; i--) {
      buffer[position + i] = DIGITS[(int) (value & 0xF)];
      value >>>= 4;
    }
    position += digits;
  }

  /** The etag's form, {@code Long.toString(version, 36)} of a positive version. */
  private static int base36Length(long value) {
    int length = 1;
    while (value >= 36) {
      value /= 36;
      length++;
    }
    return length;
  }

  private void writeBase36(long value, int length) {
    for (int i = length - 1; i >= 0; i--) {
      buffer[position + i] = DIGITS[(int) (value % 36)];
      value /= 36;
    }
    position += length;
  }

  private void writeTag(int field, int wireType) {
    buffer[position++] = (byte) (field << 3 | wireType);
  }

  /**
   * An unsigned varint; an {@code int32} or {@code int64} field writes a negative value as its
   * ten-byte two's complement, which widening an {@code int} to a {@code long} gives.
   */
  private void writeVarint(long value) {
    while ((value & ~0x7FL) != 0) {
      buffer[position++] = (byte) ((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    buffer[position++] = (byte) value;
  }

  private static int varintSize(long value) {
    return value < 0 ? 10 : (63 - Long.numberOfLeadingZeros(value | 1)) / 7 + 1;
  }

  private void ensureRoom(int bytes) {
    if (buffer.length - position < bytes) {
      buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, position + bytes));
    }
  }

  /** One encoded {@code ListUsersResponse}: the first {@code length} bytes of {@code bytes}. */
  static final class Message {

    private final byte[] bytes;
    private final int length;

    private Message(byte[] bytes, int length) {
      this.bytes = bytes;
      this.length = length;
    }

    byte[] toByteArray() {
      return Arrays.copyOf(bytes, length);
    }
  }

  /**
   * A message for the transport: grpc-java reads the length first ({@link KnownLength}) and then
   * drains the bytes into its own buffers in one copy ({@link Drainable}), as it does for the
   * generated messages.
   */
  private static final class MessageStream extends InputStream implements KnownLength, Drainable {

    private final byte[] bytes;
    private final int length;
    private int position;

    MessageStream(Message message) {
      this.bytes = message.bytes;
      this.length = message.length;
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      int drained = length - position;
      target.write(bytes, position, drained);
      position = length;
      return drained;
    }

    @Override
    public int available() {
      return length - position;
    }

    @Override
    public int read() {
      return position < length ? bytes[position++] & 0xFF : -1;
    }

    @Override
    public int read(byte[] target, int offset, int count) {
      if (count == 0) {
        return 0;
      }
      if (position == length) {
        return -1;
      }
      int read = Math.min(count, length - position);
      System.arraycopy(bytes, position, target, offset, read);
      position += read;
      return read;
    }
  }
}
