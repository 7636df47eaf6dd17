package dev.users.adapter.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

class ConnectionOpenedAheadTest {

  @Test
  void startsOpeningTheFirstConnectionBeforeItIsAskedForAndHandsItOverOnce() throws Exception {
    var source = new CountingSource();
    try (var ahead = new ConnectionOpenedAhead(source.dataSource())) {
      assertThat(source.asked.await(5, TimeUnit.SECONDS)).as("opening began without being asked").isTrue();

      var first = ahead.getConnection();
      var second = ahead.getConnection();

      assertThat(source.opened).containsExactly(first, second);
    }
  }

  @Test
  void closesTheFirstConnectionWhenNobodyTookIt() throws Exception {
    var source = new CountingSource();
    var ahead = new ConnectionOpenedAhead(source.dataSource());
    assertThat(source.asked.await(5, TimeUnit.SECONDS)).isTrue();

    ahead.close();

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (source.opened.isEmpty() || !source.opened.getFirst().isClosed()) {
      assertThat(System.nanoTime()).as("closed within 5 s").isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  @Test
  void failsAsOpeningFailedWithTheServersSqlState() throws Exception {
    var unreachable = new PGSimpleDataSource();
    unreachable.setURL("jdbc:postgresql://127.0.0.1:1/users");
    unreachable.setConnectTimeout(1);

    try (var ahead = new ConnectionOpenedAhead(unreachable)) {
      assertThatThrownBy(ahead::getConnection)
          .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).startsWith("08"));
    }
  }

  /** Connections that only know whether they were closed; it records each one it opened. */
  private static final class CountingSource {

    final CountDownLatch asked = new CountDownLatch(1);
    final List<Connection> opened = new CopyOnWriteArrayList<>();

    PGSimpleDataSource dataSource() {
      return new PGSimpleDataSource() {
        @Override
        public Connection getConnection() {
          asked.countDown();
          var closed = new AtomicBoolean();
          var connection = (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
              new Class<?>[] {Connection.class}, (proxy, method, args) -> switch (method.getName()) {
                case "close" -> {
                  closed.set(true);
                  yield null;
                }
                case "isClosed" -> closed.get();
                case "equals" -> proxy == args[0];
                case "hashCode" -> System.identityHashCode(proxy);
                case "toString" -> "connection " + opened.size();
                default -> throw new UnsupportedOperationException(method.getName());
              });
          opened.add(connection);
          return connection;
        }
      };
    }
  }
}
