package dev.users.adapter.persistence;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;

/**
 * The pool's source of physical connections, which remembers the open ones so that they can all be
 * aborted at once. HikariCP can evict idle connections but has no way to interrupt one that is in
 * use; a call blocked reading from a database that went silent would otherwise wait for the socket
 * timeout.
 */
final class AbortableConnections extends ForwardingDataSource {

  private final Set<Connection> open = ConcurrentHashMap.newKeySet();

  AbortableConnections(DataSource connections) {
    super(connections);
  }

  @Override
  public Connection getConnection() throws SQLException {
    return remember(connections.getConnection());
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    return remember(connections.getConnection(username, password));
  }

  /**
   * Closes the socket of every open connection without talking to the server: whoever is blocked
   * on one fails at once with SQLState 08006, and the pool discards it as broken.
   */
  void abortAll() {
    for (var connection : open) {
      open.remove(connection);
      try {
        connection.abort(Runnable::run);
      } catch (SQLException e) {
        // Only thrown for a connection that is already closed, which is what abort wants anyway.
      }
    }
  }

  private Connection remember(Connection connection) throws SQLException {
    // The pool closes connections itself (lifetime, eviction); forget those here, or the set would
    // grow for as long as the service runs.
    for (var known : open) {
      if (known.isClosed()) {
        open.remove(known);
      }
    }
    open.add(connection);
    return connection;
  }
}
