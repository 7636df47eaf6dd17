package dev.users.adapter.persistence;

import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.User;
import dev.users.domain.UserId;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;

/**
 * Reads users in id order at the speed of {@code COPY (SELECT ...) TO STDOUT}, in binary format,
 * and passes each to a consumer as its row arrives.
 *
 * <p>A query's rows come a fetch at a time, a round trip each, while the server waits; a COPY's
 * rows stream without asking, so the database produces the next rows while this side turns the
 * last ones into users. The binary format carries the uuid, the timestamps and the version as the
 * numbers they are: nothing is parsed from text.
 *
 * <p>COPY takes no parameters, so the position and the limit are written into the statement:
 * both are typed values (a {@link UUID}'s canonical form and an {@code int}), never text from a
 * caller.
 */
final class CopyListing {

  private static final String COLUMNS = "id, email, display_name, create_time, update_time, version";

  private static final int SIGNATURE_BYTES = 11;

  private static final short COLUMN_COUNT = 6;

  /** PostgreSQL's timestamps count microseconds from 2000-01-01T00:00:00Z. */
  private static final long POSTGRES_EPOCH_SECOND = Instant.parse("2000-01-01T00:00:00Z").getEpochSecond();

  private CopyListing() {}

  /**
   * Runs with {@code handle} in autocommit, as the repository's handles are.
   *
   * <p>When {@code each} throws, the rest of the rows are read and dropped before its exception
   * propagates: the connection goes back to the pool ready for its next statement. Cancelling the
   * COPY instead would send a cancel request that can arrive after the COPY ended and stop that
   * next statement, of another call. The caller bounds what is left to read with {@code limit}.
   */
  static void forEach(Handle handle, Optional<UserId> after, int limit, Consumer<? super User> each)
      throws SQLException {
    var copy = handle.getConnection().unwrap(PGConnection.class).getCopyAPI().copyOut(statement(after, limit));
    try {
      read(copy, each);
    } catch (RuntimeException e) {
      try {
        skipRest(copy);
      } catch (SQLException | RuntimeException skipping) {
        e.addSuppressed(skipping);
      }
      throw e;
    }
  }

  private static String statement(Optional<UserId> after, int limit) {
    var where = after.map(id -> " WHERE id > '" + id.value() + "'").orElse("");
    return "COPY (SELECT " + COLUMNS + " FROM users" + where + " ORDER BY id LIMIT " + limit
        + ") TO STDOUT (FORMAT binary)";
  }

  /**
   * The data is the format's header, then one tuple per row, then a trailer of -1; PostgreSQL
   * sends each row as a message of its own, the header with the first one.
   */
  private static void read(CopyOut copy, Consumer<? super User> each) throws SQLException {
    var data = new Cursor();
    boolean header = true;
    for (byte[] message = copy.readFromCopy(); message != null; message = copy.readFromCopy()) {
      data.reset(message);
      if (header) {
        // The signature, a flags word, then a header extension of the length given.
        data.skip(SIGNATURE_BYTES + 4);
        data.skip(data.getInt());
        header = false;
      }
      while (data.hasRemaining()) {
        short columns = data.getShort();
        if (columns == -1) {
          continue;
        }
        if (columns != COLUMN_COUNT) {
          throw new IllegalStateException("a COPY row of " + columns + " columns, expected " + COLUMN_COUNT);
        }
        each.accept(user(data));
      }
    }
  }

  // Stored values are not judged by today's rules: a user stored under older ones stays readable.
  // Each field is its length, then its bytes; every column is NOT NULL, so a length is never -1.
  private static User user(Cursor row) {
    row.getInt();
    var id = new UserId(new UUID(row.getLong(), row.getLong()));
    var email = Email.fromStorage(row.text());
    var displayName = DisplayName.fromStorage(row.text());
    var createTime = timestamp(row);
    var updateTime = timestamp(row);
    row.getInt();
    return User.reconstitute(id, email, displayName, createTime, updateTime, row.getLong());
  }

  private static Instant timestamp(Cursor row) {
    row.getInt();
    long micros = row.getLong();
    return Instant.ofEpochSecond(POSTGRES_EPOCH_SECOND + Math.floorDiv(micros, 1_000_000),
        Math.floorMod(micros, 1_000_000) * 1_000L);
  }

  /**
   * Reads the big-endian numbers and the texts of one COPY message in place. One serves every
   * message of a COPY: wrapping each row, a message of its own, in a ByteBuffer cost an object a
   * row.
   */
  private static final class Cursor {

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private byte[] data;
    private int position;

    void reset(byte[] message) {
      data = message;
      position = 0;
    }

    boolean hasRemaining() {
      return position < data.length;
    }

    void skip(int bytes) {
      position += bytes;
    }

    short getShort() {
      short value = (short) SHORT.get(data, position);
      position += Short.BYTES;
      return value;
    }

    int getInt() {
      int value = (int) INT.get(data, position);
      position += Integer.BYTES;
      return value;
    }

    long getLong() {
      long value = (long) LONG.get(data, position);
      position += Long.BYTES;
      return value;
    }

    /** A text field; the driver asks for UTF-8. */
    String text() {
      int length = getInt();
      var value = new String(data, position, length, StandardCharsets.UTF_8);
      position += length;
      return value;
    }
  }

  private static void skipRest(CopyOut copy) throws SQLException {
    while (copy.isActive() && copy.readFromCopy() != null) {
      // Dropped: the consumer gave up on the listing.
    }
  }
}
