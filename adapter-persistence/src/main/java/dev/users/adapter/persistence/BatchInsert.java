package dev.users.adapter.persistence;

import dev.users.domain.User;
import dev.users.domain.UserId;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.PGCopyOutputStream;
import org.postgresql.util.PSQLException;

/**
 * Stores a batch of new users at the speed of {@code COPY ... FROM STDIN}, in binary format: no
 * SQL text to parse, no escaping whatever the names hold.
 *
 * <p>A batch is first copied straight into {@code users}, one statement and so all or nothing: in a
 * bulk import of new users it is the whole write. COPY has no {@code ON CONFLICT}, so when an email
 * of the batch is taken the copy stores nothing and the batch goes again through a temporary
 * staging table and {@code INSERT ... SELECT ... ON CONFLICT DO NOTHING}, which skips the taken
 * emails, in one transaction. A batch with a taken email therefore costs two writes.
 */
final class BatchInsert {

  private static final String COPY_USERS = """
      COPY users (id, email, email_canonical, display_name, create_time, update_time, version)
      FROM STDIN (FORMAT binary)""";

  // One staging table per connection (temporary tables belong to the session), created by the
  // first batch that needs it; the commit of each batch empties it.
  private static final String CREATE_STAGING = """
      CREATE TEMPORARY TABLE IF NOT EXISTS users_staged (
          id uuid, email text, email_canonical text, display_name text,
          create_time timestamptz, update_time timestamptz, version bigint
      ) ON COMMIT DELETE ROWS""";

  private static final String COPY_STAGING = """
      COPY users_staged (id, email, email_canonical, display_name, create_time, update_time, version)
      FROM STDIN (FORMAT binary)""";

  // Only the ids come back: the rows stored are the ones sent, and the caller has them. Rows whose
  // email is taken, by an existing user or a concurrent insert, are skipped rather than failing
  // the batch.
  private static final String INSERT_STAGED = """
      INSERT INTO users (id, email, email_canonical, display_name, create_time, update_time, version)
      SELECT id, email, email_canonical, display_name, create_time, update_time, version FROM users_staged
      ON CONFLICT (email_canonical) DO NOTHING
      RETURNING id""";

  private static final String EMAIL_KEY = "users_email_canonical_key";

  private static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0};

  private static final short COLUMNS = 7;

  /** PostgreSQL's timestamps count microseconds from 2000-01-01T00:00:00Z. */
  private static final long POSTGRES_EPOCH_SECOND = Instant.parse("2000-01-01T00:00:00Z").getEpochSecond();

  /** Large enough to fill the socket's buffer in few writes, small next to a batch. */
  private static final int COPY_BUFFER_BYTES = 64 * 1024;

  private BatchInsert() {}

  /**
   * Runs with {@code handle} in autocommit, as the repository's handles are.
   *
   * @return whether all were stored; when not, {@link #insertSkippingTakenEmails} is the way
   */
  static boolean insertAll(Handle handle, List<User> users) throws SQLException {
    try {
      copy(handle, COPY_USERS, users);
      return true;
    } catch (PSQLException e) {
      if ("23505".equals(e.getSQLState()) && e.getServerErrorMessage() != null
          && EMAIL_KEY.equals(e.getServerErrorMessage().getConstraint())) {
        return false;
      }
      throw e;
    }
  }

  /** @return the ids of the users stored; the others' emails were taken */
  static Set<UserId> insertSkippingTakenEmails(Handle handle, List<User> users) throws SQLException {
    return handle.inTransaction(transaction -> {
      transaction.execute(CREATE_STAGING);
      copy(transaction, COPY_STAGING, users);
      var stored = new HashSet<UserId>(users.size() * 2);
      transaction.createQuery(INSERT_STAGED).mapTo(UUID.class).forEach(id -> stored.add(new UserId(id)));
      return stored;
    });
  }

  private static void copy(Handle handle, String copySql, List<User> users) throws SQLException {
    var copy = handle.getConnection().unwrap(PGConnection.class).getCopyAPI().copyIn(copySql);
    try {
      write(copy, users);
    } catch (IOException e) {
      // The stream reports the driver's failures as IOExceptions caused by them.
      throw e.getCause() instanceof SQLException sql ? sql : new SQLException(e);
    } finally {
      if (copy.isActive()) {
        copy.cancelCopy();
      }
    }
  }

  private static void write(CopyIn copy, List<User> users) throws IOException {
    var out = new DataOutputStream(new PGCopyOutputStream(copy, COPY_BUFFER_BYTES));
    out.write(SIGNATURE);
    out.writeInt(0);
    out.writeInt(0);
    for (var user : users) {
      out.writeShort(COLUMNS);
      out.writeInt(16);
      out.writeLong(user.id().value().getMostSignificantBits());
      out.writeLong(user.id().value().getLeastSignificantBits());
      text(out, user.email().value());
      text(out, user.email().canonical());
      text(out, user.displayName().value());
      timestamp(out, user.createTime());
      timestamp(out, user.updateTime());
      // Stored with version 1, as every new user is (UserRepository).
      out.writeInt(8);
      out.writeLong(1);
    }
    out.writeShort(-1);
    // Closing flushes the buffer and ends the copy.
    out.close();
  }

  private static void text(DataOutputStream out, String value) throws IOException {
    var bytes = value.getBytes(StandardCharsets.UTF_8);
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  /** Whole microseconds, as the domain keeps them ({@link User#register} truncates to them). */
  private static void timestamp(DataOutputStream out, Instant instant) throws IOException {
    out.writeInt(8);
    out.writeLong((instant.getEpochSecond() - POSTGRES_EPOCH_SECOND) * 1_000_000 + instant.getNano() / 1_000);
  }
}
