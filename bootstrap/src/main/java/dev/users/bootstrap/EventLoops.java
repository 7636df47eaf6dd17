package dev.users.bootstrap;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.IoHandlerFactory;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The event loops that accept the server's connections and read and write them, shared by the
 * gRPC port and the health port: epoll where the native transport loads, NIO elsewhere.
 *
 * <p>The service sizes them itself instead of taking grpc-java's shared default of two per core:
 * calls run on virtual threads, so the event loops only move frames, and every loop beyond what
 * that needs is one more thread to wake per read. With one loop instead of four on the 2-core
 * machine, GetUser with 64 calls in flight cost a median 68 us of CPU per call instead of 75, in
 * interleaved rounds (see BENCHMARKS.md).
 */
final class EventLoops implements AutoCloseable {

  private final EventLoopGroup group;
  private final Class<? extends ServerChannel> channelType;

  private EventLoops(EventLoopGroup group, Class<? extends ServerChannel> channelType) {
    this.group = group;
    this.channelType = channelType;
  }

  /** Starts {@code threads} event loops; daemon threads, so that they never hold the JVM up. */
  static EventLoops start(int threads) {
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    var group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("users-event-loop", true), io);
    return new EventLoops(group, epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class);
  }

  /** Has {@code server} accept and serve its connections on these loops. */
  NettyServerBuilder serve(NettyServerBuilder server) {
    return server.bossEventLoopGroup(group).workerEventLoopGroup(group).channelType(channelType);
  }

  /**
   * Stops the loops at once: called once the servers on them have terminated, so nothing is left
   * for them to do.
   */
  @Override
  public void close() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
