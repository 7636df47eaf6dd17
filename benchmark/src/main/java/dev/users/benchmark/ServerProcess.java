package dev.users.benchmark;

import dev.users.api.v1.UserServiceGrpc;
import io.grpc.StatusRuntimeException;
import io.grpc.benchmarks.proto.BenchmarkServiceGrpc;
import io.grpc.benchmarks.proto.Messages.SimpleRequest;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC server under measurement, running as a process of its own on a loopback port, so that
 * its CPU time and memory are its alone: the users service as its launcher runs it, or grpc-java's
 * own benchmark server.
 */
final class ServerProcess implements AutoCloseable {

  private static final long START_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(120);
  private static final long POLL_MILLIS = 2;

  private final ChildProcess child;
  private final int port;
  private final double startMillis;

  private ServerProcess(ChildProcess child, int port, double startMillis) {
    this.child = child;
    this.port = port;
    this.startMillis = startMillis;
  }

  /**
   * Runs {@code bin/users-service} from {@code root} with {@code settings} added to the environment
   * and waits until its health service answers SERVING for {@code users.v1.UserService}.
   * {@link #startMillis()} is the time from spawning the launcher to that answer.
   */
  static ServerProcess service(Path root, Map<String, String> settings, int port, Path log)
      throws IOException, InterruptedException {
    Files.deleteIfExists(log);
    long spawned = System.nanoTime();
    var child = ChildProcess.start("users-service", List.of(root.resolve("bin/users-service").toString()), root,
        settings, log);
    awaitServing(child, port, spawned);
    return new ServerProcess(child, port, (System.nanoTime() - spawned) / 1e6);
  }

  /**
   * Runs grpc-java's {@code io.grpc.benchmarks.qps.AsyncServer} (Netty NIO transport, its default,
   * calls on a ForkJoinPool) with {@code java}, on this JVM's class path, and waits until an empty
   * UnaryCall succeeds. AsyncServer binds the port on every local address, whatever address it is
   * given; only the loopback address is ever called.
   */
  static ServerProcess rawGrpc(String java, int port, Path log) throws IOException, InterruptedException {
    Files.deleteIfExists(log);
    long spawned = System.nanoTime();
    var child = ChildProcess.start("AsyncServer", List.of(java, "-cp", System.getProperty("java.class.path"),
            "io.grpc.benchmarks.qps.AsyncServer", "--address=127.0.0.1:" + port, "--transport=netty_nio"),
        log.getParent(), Map.of(), log);
    awaitPort(child, port, spawned);
    var channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      while (true) {
        try {
          BenchmarkServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
              .unaryCall(SimpleRequest.getDefaultInstance());
          break;
        } catch (StatusRuntimeException e) {
          pause(child, spawned, e.getStatus().toString());
        }
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    return new ServerProcess(child, port, (System.nanoTime() - spawned) / 1e6);
  }

  /** A port that was free on the loopback address a moment ago. */
  static int freePort() throws IOException {
    try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  int port() {
    return port;
  }

  long pid() {
    return child.pid();
  }

  double startMillis() {
    return startMillis;
  }

  long cpuTicks() {
    return child.cpuTicks();
  }

  /** The part of {@link #cpuTicks()} its JIT compiler threads used; see {@link ProcStat#compilerTicks}. */
  long compilerTicks() {
    return ProcStat.compilerTicks(pid());
  }

  long residentKib() {
    return child.residentKib();
  }

  Path log() {
    return child.log();
  }

  private static void awaitServing(ChildProcess child, int port, long spawned) throws InterruptedException {
    awaitPort(child, port, spawned);
    // A channel made only now: one that had tried a closed port would wait out its reconnect backoff.
    var channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    var request = HealthCheckRequest.newBuilder().setService(UserServiceGrpc.SERVICE_NAME).build();
    try {
      while (true) {
        String status;
        try {
          var response = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS).check(request);
          if (response.getStatus() == ServingStatus.SERVING) {
            return;
          }
          status = response.getStatus().toString();
        } catch (StatusRuntimeException e) {
          status = e.getStatus().toString();
        }
        pause(child, spawned, status);
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static void awaitPort(ChildProcess child, int port, long spawned) throws InterruptedException {
    while (true) {
      try (var socket = new Socket()) {
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1_000);
        return;
      } catch (IOException e) {
        pause(child, spawned, "port " + port + " not open: " + e.getMessage());
      }
    }
  }

  private static void pause(ChildProcess child, long spawned, String lastSeen) throws InterruptedException {
    if (!child.isAlive()) {
      throw new ChildFailedException(child.name() + " exited with " + child.waitFor(0) + " before it served; see "
          + child.log());
    }
    if (System.nanoTime() - spawned > START_TIMEOUT_NANOS) {
      throw new ChildFailedException(child.name() + " did not serve within "
          + TimeUnit.NANOSECONDS.toSeconds(START_TIMEOUT_NANOS) + " s (last seen: " + lastSeen + "); see " + child.log());
    }
    Thread.sleep(POLL_MILLIS);
  }

  /** SIGTERM, and the time it had to end. */
  @Override
  public void close() throws InterruptedException {
    child.close();
  }

  /** A server that could not be started: the benchmark has nothing to measure. */
  static final class ChildFailedException extends IllegalStateException {
    ChildFailedException(String message) {
      super(message);
    }
  }
}
