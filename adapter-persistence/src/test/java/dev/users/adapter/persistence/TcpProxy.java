package dev.users.adapter.persistence;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * A TCP proxy on loopback between the code under test and PostgreSQL, which a test turns into the
 * network failures a database suffers: {@link #cut()} (the server is gone: connections closed, new
 * ones refused), {@link #partition()} (the server is silent: sockets stay open, nothing is
 * forwarded), {@link #delay(Duration)} (a slow link), and {@link #restore()}.
 *
 * <p>Written here rather than taken from a library: Toxiproxy, the well-known one, needs its own
 * server process or Docker, which the build must not require; what the tests need is a hundred
 * lines of blocking sockets on virtual threads.
 */
public final class TcpProxy implements AutoCloseable {

  private static final Pattern URL = Pattern.compile("jdbc:postgresql://([^/:?]+)(?::(\\d+))?(/.*)");

  private final InetSocketAddress target;
  private final String proxiedJdbcUrl;
  private final int port;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Object flow = new Object();
  private ServerSocket listener; // guarded by this
  private boolean partitioned; // guarded by flow
  private volatile Duration delay = Duration.ZERO;

  private TcpProxy(InetSocketAddress target, String urlTail) throws IOException {
    this.target = target;
    listen(0);
    this.port = listener.getLocalPort();
    this.proxiedJdbcUrl = "jdbc:postgresql://127.0.0.1:" + port + urlTail;
  }

  /** A proxy in front of the server of {@code database}, forwarding from the start. */
  public static TcpProxy inFrontOf(PostgresTestDatabase database) {
    var url = URL.matcher(database.jdbcUrl());
    if (!url.matches()) {
      throw new IllegalArgumentException("not a jdbc:postgresql://host[:port]/... URL: " + database.jdbcUrl());
    }
    int port = url.group(2) == null ? 5432 : Integer.parseInt(url.group(2));
    try {
      return new TcpProxy(new InetSocketAddress(url.group(1), port), url.group(3));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The database's JDBC URL, pointing at the proxy. */
  public String jdbcUrl() {
    return proxiedJdbcUrl;
  }

  /** Closes every connection and refuses new ones, as a stopped server does. */
  public synchronized void cut() {
    closeQuietly(listener);
    listener = null;
    sockets.forEach(TcpProxy::closeQuietly);
  }

  /** Keeps every socket open, accepts new ones, and forwards nothing, as a lost network does. */
  public void partition() {
    synchronized (flow) {
      partitioned = true;
    }
  }

  /** Holds every chunk of data for {@code latency} before forwarding it. */
  public void delay(Duration latency) {
    delay = latency;
  }

  /** Forwards again without delay; what a partition held back is delivered now. */
  public synchronized void restore() {
    delay = Duration.ZERO;
    synchronized (flow) {
      partitioned = false;
      flow.notifyAll();
    }
    if (listener == null) {
      try {
        listen(port);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot listen on port " + port + " again", e);
      }
    }
  }

  @Override
  public synchronized void close() {
    cut();
    synchronized (flow) {
      partitioned = false;
      flow.notifyAll();
    }
  }

  private synchronized void listen(int onPort) throws IOException {
    var socket = new ServerSocket();
    socket.setReuseAddress(true);
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort));
    listener = socket;
    Thread.ofVirtual().name("proxy-accept-" + socket.getLocalPort()).start(() -> accept(socket));
  }

  private void accept(ServerSocket socket) {
    while (!socket.isClosed()) {
      try {
        var client = socket.accept();
        var server = new Socket();
        if (!register(socket, client, server)) {
          closeQuietly(client);
          return;
        }
        try {
          server.connect(target, 1_000);
        } catch (IOException e) {
          closeQuietly(client);
          closeQuietly(server);
          continue;
        }
        Thread.ofVirtual().start(() -> pump(client, server));
        Thread.ofVirtual().start(() -> pump(server, client));
      } catch (IOException e) {
        // The listener was closed by cut() or close().
        return;
      }
    }
  }

  /**
   * Whether the connection may go on: not if {@code socket} was cut since it accepted it, or the
   * connection would outlive the cut.
   */
  private synchronized boolean register(ServerSocket socket, Socket client, Socket server) {
    if (listener != socket) {
      return false;
    }
    sockets.add(client);
    sockets.add(server);
    return true;
  }

  private void pump(Socket from, Socket to) {
    var buffer = new byte[16 * 1024];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      int read;
      while ((read = in.read(buffer)) >= 0) {
        awaitFlow();
        var latency = delay;
        if (!latency.isZero()) {
          Thread.sleep(latency);
        }
        out.write(buffer, 0, read);
      }
    } catch (IOException e) {
      // One side closed or was cut: the other side goes too, as on a real connection.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closeQuietly(from);
      closeQuietly(to);
      sockets.remove(from);
      sockets.remove(to);
    }
  }

  private void awaitFlow() throws InterruptedException {
    synchronized (flow) {
      while (partitioned) {
        flow.wait();
      }
    }
  }

  private static void closeQuietly(AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception e) {
      // Already closed or broken: either way it is gone, which is what the caller wants.
    }
  }
}
