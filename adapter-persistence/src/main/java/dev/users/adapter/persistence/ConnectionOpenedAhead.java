package dev.users.adapter.persistence;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import javax.sql.DataSource;

/**
 * A source of connections whose first one starts opening as soon as it is made, on a thread of its
 * own, so that the wait for the server to start a backend overlaps whatever its user does before
 * asking for it. Later connections open as the source's do. Closing it closes the first connection
 * if nobody took it. A connection for another user opens as the source opens it.
 */
final class ConnectionOpenedAhead extends ForwardingDataSource implements AutoCloseable {

  private final CompletableFuture<Connection> first = new CompletableFuture<>();
  private boolean firstTaken;

  ConnectionOpenedAhead(DataSource connections) {
    super(connections);
    Thread.ofPlatform().name("users-storage-connect").daemon().start(() -> {
      try {
        first.complete(connections.getConnection());
      } catch (SQLException | RuntimeException | Error e) {
        first.completeExceptionally(e);
      }
    });
  }

  /**
   * The connection opened ahead the first time, waiting for it if needed, and failing as opening
   * it failed; a new one from the source after that.
   */
  @Override
  public Connection getConnection() throws SQLException {
    synchronized (this) {
      if (firstTaken) {
        return connections.getConnection();
      }
      firstTaken = true;
    }
    try {
      return first.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof SQLException failure) {
        throw failure;
      }
      if (e.getCause() instanceof Error failure) {
        throw failure;
      }
      throw e.getCause() instanceof RuntimeException failure ? failure : e;
    }
  }

  @Override
  public void close() {
    boolean untaken;
    synchronized (this) {
      untaken = !firstTaken;
      firstTaken = true;
    }
    if (untaken) {
      first.thenAccept(connection -> {
        try {
          connection.close();
        } catch (SQLException e) {
          // Closing a connection nobody used: there is nothing left to do with it either way.
        }
      });
    }
  }
}
