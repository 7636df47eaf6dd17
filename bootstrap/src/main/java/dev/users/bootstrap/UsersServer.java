package dev.users.bootstrap;

import dev.users.adapter.grpc.AuthenticationInterceptor;
import dev.users.adapter.grpc.CallInterceptors;
import dev.users.adapter.grpc.CallThreads;
import dev.users.adapter.grpc.CallsInFlight;
import dev.users.adapter.grpc.HealthWatches;
import dev.users.adapter.grpc.InFlightLimitInterceptor;
import dev.users.adapter.grpc.JwksFile;
import dev.users.adapter.grpc.JwtAuthenticator;
import dev.users.adapter.grpc.MetadataLimitInterceptor;
import dev.users.adapter.grpc.RequestDecoding;
import dev.users.adapter.grpc.StartingService;
import dev.users.adapter.grpc.TracingInterceptor;
import dev.users.adapter.grpc.UserGrpcService;
import dev.users.api.v1.UserServiceGrpc;
import dev.users.application.delete.DeleteUserService;
import dev.users.application.get.GetUserService;
import dev.users.application.importing.ImportUsersService;
import dev.users.application.list.ListUsersService;
import dev.users.application.register.RegisterUserService;
import dev.users.application.update.UpdateUserService;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.util.MutableHandlerRegistry;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running service: storage, use cases and the gRPC server, wired by hand. This is the only
 * place that knows every module.
 */
final class UsersServer {

  private static final Logger log = LoggerFactory.getLogger(UsersServer.class);

  /**
   * How often readiness copies the storage's availability. Asking costs nothing (storage keeps its
   * own verdict up to date), so readiness lags it by at most this.
   */
  private static final Duration HEALTH_CHECK_INTERVAL = Duration.ofMillis(100);

  /** Request metadata is a request id and auth at most; 8 KiB matches common proxies. */
  private static final int METADATA_LIMIT = 8 * 1024;

  private static final int TRANSPORT_METADATA_LIMIT = 64 * 1024;

  /** After the grace period, how long cancelled calls get to unwind before the pool closes. */
  private static final Duration FORCED_SHUTDOWN_WAIT = Duration.ofSeconds(5);

  private final Config config;
  private final Storage storage;
  private final Server server;
  /** Health alone, in plain text, for probes that cannot speak TLS; see {@link #startProbes}. */
  private final Optional<Server> probes;
  private final HealthStatusManager health;
  private final HealthWatches watches;
  private final CallsInFlight callsInFlight;
  private final ScheduledExecutorService scheduler;
  private final EventLoops eventLoops;
  private final Optional<Metrics> metrics;
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private final AtomicBoolean stopping = new AtomicBoolean();

  private UsersServer(Config config, Storage storage, Server server, Optional<Server> probes,
      HealthStatusManager health, HealthWatches watches, CallsInFlight callsInFlight, ScheduledExecutorService scheduler,
      EventLoops eventLoops, Optional<Metrics> metrics) {
    this.config = config;
    this.storage = storage;
    this.server = server;
    this.probes = probes;
    this.health = health;
    this.watches = watches;
    this.callsInFlight = callsInFlight;
    this.scheduler = scheduler;
    this.eventLoops = eventLoops;
    this.metrics = metrics;
  }

  /**
   * Opens storage, starts serving, and reports SERVING once storage is ready.
   *
   * @throws dev.users.adapter.persistence.StorageStartupException when the database cannot be
   *     reached or migrated
   * @throws UncheckedIOException when the port cannot be bound
   */
  static UsersServer start(Config config) {
    return start(config, server -> {});
  }

  /**
   * As {@link #start(Config)}; {@code started} gets the server once it serves and before it logs
   * that it listens, the line operators and tests wait for.
   */
  static UsersServer start(Config config, Consumer<UsersServer> started) {
    var openTelemetry = Tracing.fromEnvironment(System.getenv());
    return start(config, Storage.openInBackground(config, openTelemetry), openTelemetry, started);
  }

  /**
   * As {@link #start(Config, Consumer)}, on storage {@code opening} meanwhile, traced by
   * {@code openTelemetry}.
   *
   * <p>The port is open before storage is: health answers from the start, with the users API
   * NOT_SERVING and its calls UNAVAILABLE until storage is open. So start-up costs the longer of
   * the two rather than their sum, and a long migration does not fail a liveness probe.
   */
  static UsersServer start(Config config, CompletableFuture<Storage> opening, OpenTelemetry openTelemetry,
      Consumer<UsersServer> started) {
    return start(config, opening, HEALTH_CHECK_INTERVAL, openTelemetry, started);
  }

  /** Starts serving on storage that is already open; the server closes it when it stops. */
  static UsersServer start(Config config, Storage storage, Duration healthCheckInterval) {
    return start(config, storage, healthCheckInterval, OpenTelemetry.noop());
  }

  /** As {@link #start(Config, Storage, Duration)}, with a span per call traced by openTelemetry. */
  static UsersServer start(Config config, Storage storage, Duration healthCheckInterval,
      OpenTelemetry openTelemetry) {
    return start(config, CompletableFuture.completedFuture(storage), healthCheckInterval, openTelemetry, server -> {});
  }

  /**
   * Binds the port with the users API answering UNAVAILABLE, waits for {@code opening}, then puts
   * the API in place and reports it SERVING. Whatever fails, everything started is stopped, and
   * storage closed, now or once it has opened.
   */
  private static UsersServer start(Config config, CompletableFuture<Storage> opening, Duration healthCheckInterval,
      OpenTelemetry openTelemetry, Consumer<UsersServer> onStarted) {
    Optional<Metrics> metrics;
    try {
      metrics = config.metricsPort().map(Metrics::start);
    } catch (RuntimeException e) {
      opening.thenAccept(UsersServer::closeQuietly);
      throw e;
    }
    // Two threads: a health check blocked on a dead database must not delay deadline expiries.
    var scheduler = Executors.newScheduledThreadPool(2, Thread.ofPlatform()
        .name("users-scheduler-", 0)
        .daemon(true)
        .factory());
    var eventLoops = EventLoops.start(config.eventLoopThreads());
    Server server = null;
    Optional<Server> probes = Optional.empty();
    try {
      var health = new HealthStatusManager();
      health.setStatus(UserServiceGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
      var watches = new HealthWatches();
      var callsInFlight = new CallsInFlight();
      var services = new MutableHandlerRegistry();
      services.addService(StartingService.of(UserServiceGrpc.getServiceDescriptor(),
          "users-service is starting: its storage is not open yet; retry shortly"));
      var authentication = authentication(config, scheduler);
      server = buildServer(config, services, health, watches, scheduler, eventLoops, metrics, openTelemetry).start();
      probes = startProbes(config, health, eventLoops);
      // Liveness: the process serves until it shuts down, whatever the database does, so that a
      // liveness probe does not restart every replica during a database outage, or a migration.
      health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);

      var storage = awaitOpen(opening);
      metrics.ifPresent(m -> storage.postgres().ifPresent(m::instrument));
      services.addService(usersApi(config, storage, callsInFlight, authentication, scheduler, metrics));
      var started = new UsersServer(config, storage, server, probes, health, watches, callsInFlight, scheduler,
          eventLoops, metrics);
      started.reportHealth();
      scheduler.scheduleWithFixedDelay(started::reportHealth,
          healthCheckInterval.toMillis(), healthCheckInterval.toMillis(), TimeUnit.MILLISECONDS);
      onStarted.accept(started);
      log.info("users-service listening on port {} (storage: {}, environment: {}, tls: {}, reflection: {})",
          server.getPort(), storage.description(), config.environment().name().toLowerCase(Locale.ROOT),
          config.tls().map(ReloadingTlsCredentials::describe).orElse("off"), reflectionEnabled(config) ? "on" : "off");
      return started;
    } catch (IOException | RuntimeException e) {
      if (server != null) {
        server.shutdownNow();
      }
      probes.ifPresent(Server::shutdownNow);
      opening.thenAccept(UsersServer::closeQuietly);
      scheduler.shutdownNow();
      eventLoops.close();
      metrics.ifPresent(Metrics::close);
      if (e instanceof IOException bind) {
        throw new UncheckedIOException("cannot listen on port " + config.grpcPort() + ": " + bind.getMessage(), bind);
      }
      throw (RuntimeException) e;
    }
  }

  /** The storage {@code opening} gives, or the exception that opening it threw. */
  private static Storage awaitOpen(CompletableFuture<Storage> opening) {
    try {
      return opening.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException failure) {
        throw failure;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw e;
    }
  }

  /**
   * The users API over {@code storage}, with its interceptors, and the server's limit on calls in
   * flight outside them.
   */
  private static ServerServiceDefinition usersApi(Config config, Storage storage, CallsInFlight callsInFlight,
      AuthenticationInterceptor authentication, ScheduledExecutorService scheduler, Optional<Metrics> metrics) {
    var clock = Clock.systemUTC();
    var ids = new TimeOrderedUserIdGenerator();
    var users = storage.users();
    var service = new UserGrpcService(
        new RegisterUserService(users, ids, clock),
        new GetUserService(users),
        new UpdateUserService(users, clock),
        new DeleteUserService(users),
        new ListUsersService(users),
        new ImportUsersService(users, ids, clock),
        config.imports());
    var usersApi = CallInterceptors.usersApi(RequestDecoding.guard(service), callsInFlight, authentication,
        config.deadlines(), config.rateLimit(), config.imports(), scheduler);
    return ServerInterceptors.intercept(metrics.map(m -> m.count(usersApi)).orElse(usersApi),
        new InFlightLimitInterceptor(config.limits().maxUnaryCallsInFlight()));
  }

  /**
   * The server, with health, reflection and the interceptors of every call; the users API is
   * looked up in {@code services}, where it is put once its storage is open.
   */
  private static Server buildServer(Config config, MutableHandlerRegistry services, HealthStatusManager health,
      HealthWatches watches, ScheduledExecutorService scheduler, EventLoops eventLoops, Optional<Metrics> metrics,
      OpenTelemetry openTelemetry) {
    var limits = config.limits();
    var builder = eventLoops.serve(NettyServerBuilder.forPort(config.grpcPort(), credentials(config, scheduler)))
        .fallbackHandlerRegistry(services)
        .addService(ServerInterceptors.intercept(RequestDecoding.guard(health.getHealthService()), watches))
        .maxInboundMessageSize(limits.maxInboundMessageBytes())
        // MetadataLimitInterceptor applies the real limit to each call; the transport's, far
        // above it, only bounds memory (beyond it one call, beyond 1.25 times it the connection fails).
        .maxInboundMetadataSize(TRANSPORT_METADATA_LIMIT)
        .maxConcurrentCallsPerConnection(limits.maxConcurrentCallsPerConnection())
        // Recycling connections lets load balancers spread long-lived clients over new replicas;
        // the grace lets calls in flight finish first.
        .maxConnectionAge(limits.maxConnectionAge().toMillis(), TimeUnit.MILLISECONDS)
        .maxConnectionAgeGrace(config.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)
        // Clients may ping to keep idle connections through NATs, but not often enough to be a
        // burden; more frequent pings get the connection closed (GOAWAY ENHANCE_YOUR_CALM).
        .permitKeepAliveTime(30, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .keepAliveTime(2, TimeUnit.MINUTES)
        .keepAliveTimeout(20, TimeUnit.SECONDS);
    // Calls that may block run on virtual threads: a call blocked on storage holds no platform
    // thread, and the thread count needs no bound of its own, since InFlightLimitInterceptor bounds
    // the calls that block. Unlike a bounded pool, it never queues a call's callbacks behind
    // blocked ones, nor rejects a task: grpc-java answers a rejected task with RST_STREAM
    // (INTERNAL to the client) and a WARNING stack trace. It holds no thread while idle: no
    // shutdown needed. GetUser, which never blocks, stays in the event loop, and ListUsers runs on
    // platform threads, as many as the database has connections for it (CallThreads).
    CallThreads.installOn(builder, Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("users-call-", 0).factory()),
        config.postgres().maxPoolSize());
    hardenConnections(builder, config.connections());
    if (reflectionEnabled(config)) {
      builder.addService(RequestDecoding.guard(ProtoReflectionServiceV1.newInstance()));
    }
    builder.intercept(new MetadataLimitInterceptor(METADATA_LIMIT));
    CallInterceptors.installOn(builder);
    // Outermost: the span covers the whole call, and the access log line carries its trace id.
    // Not installed without tracing: with the no-op OpenTelemetry it would still extract a
    // context, build a span and put its (all-zero) ids in the MDC around every callback.
    if (openTelemetry != OpenTelemetry.noop()) {
      builder.intercept(new TracingInterceptor(openTelemetry, UserServiceGrpc.SERVICE_NAME));
    }
    metrics.ifPresent(m -> m.instrument(builder));
    return builder.build();
  }

  /**
   * Kubernetes' gRPC probes speak plain text only, so they cannot reach health on a TLS port:
   * with USERS_HEALTH_PORT set, health alone is served there too, in plain text. It tells no
   * more than whether the process and its database are up.
   *
   * @throws UncheckedIOException when the port cannot be bound
   */
  private static Optional<Server> startProbes(Config config, HealthStatusManager health, EventLoops eventLoops) {
    if (config.healthPort().isEmpty()) {
      return Optional.empty();
    }
    int port = config.healthPort().get();
    try {
      var probes = eventLoops.serve(NettyServerBuilder.forPort(port, InsecureServerCredentials.create()))
          .addService(health.getHealthService())
          .build()
          .start();
      log.info("health for probes on plain-text port {}", probes.getPort());
      return Optional.of(probes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on USERS_HEALTH_PORT " + port + ": " + e.getMessage(), e);
    }
  }

  /** See {@link Config.Connections} for what each setting defends against. */
  private static void hardenConnections(NettyServerBuilder builder, Config.Connections connections) {
    builder
        .maxRstFramesPerWindow(connections.maxRstFramesPerWindow(), (int) connections.rstFramesWindow().toSeconds())
        .maxConnectionIdle(connections.maxConnectionIdle().toMillis(), TimeUnit.MILLISECONDS)
        // grpc-java's default is 120 s: long enough for a few thousand silent sockets to pile up.
        .handshakeTimeout(connections.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** @throws UncheckedIOException when the JWKS file can no longer be read */
  private static AuthenticationInterceptor authentication(Config config, ScheduledExecutorService scheduler) {
    return switch (config.auth()) {
      case Config.Auth.None none -> {
        if (config.environment() == Config.Environment.PRODUCTION) {
          log.warn("USERS_AUTH is none: every caller is an administrator");
        }
        yield AuthenticationInterceptor.none();
      }
      case Config.Auth.Jwt jwt -> {
        JwksFile keys;
        try {
          keys = JwksFile.load(jwt.jwksFile());
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read USERS_AUTH_JWKS_FILE: " + e.getMessage(), e);
        }
        keys.watch(scheduler, jwt.reloadInterval());
        log.info("callers authenticate with bearer JWTs from issuer {} (keys: {}, re-read every {} s)",
            jwt.issuer(), jwt.jwksFile(), jwt.reloadInterval().toSeconds());
        yield AuthenticationInterceptor.bearer(new JwtAuthenticator(keys, jwt.issuer(), jwt.audience()));
      }
    };
  }

  private static ServerCredentials credentials(Config config, ScheduledExecutorService scheduler) {
    return config.tls()
        .map(tls -> ReloadingTlsCredentials.start(tls, scheduler))
        .orElseGet(InsecureServerCredentials::create);
  }

  /** Reflection describes the whole API to anyone who asks: useful in development only. */
  private static boolean reflectionEnabled(Config config) {
    return config.environment() != Config.Environment.PRODUCTION;
  }

  /** Readiness: the users API can serve while its storage is reachable, and until shutdown. */
  private synchronized void reportHealth() {
    if (stopping.get()) {
      return;
    }
    boolean available;
    try {
      available = storage.isAvailable().getAsBoolean();
    } catch (RuntimeException e) {
      log.warn("storage health check failed", e);
      available = false;
    }
    health.setStatus(UserServiceGrpc.SERVICE_NAME, available ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  }

  private synchronized void reportNotReady() {
    health.setStatus(UserServiceGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
  }

  int port() {
    return server.getPort();
  }

  void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /**
   * Shuts down gracefully: readiness turns NOT_SERVING so that load balancers stop sending calls;
   * calls are still accepted for the drain delay, while they catch up; then new calls are refused,
   * health watches end, calls in flight get the grace period to finish, the rest are cancelled and
   * storage is closed. Returns as soon as the last call is done. Safe to call more than once, from
   * any thread: every call returns once the server has stopped.
   */
  void stop() {
    if (!stopping.compareAndSet(false, true)) {
      stopped.join();
      return;
    }
    try {
      reportNotReady();
      drain();
      log.info("shutting down; calls in flight have {} ms to finish", config.shutdownGrace().toMillis());
      health.enterTerminalState();
      server.shutdown();
      watches.endAll();
      if (!server.awaitTermination(config.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
        // UNAVAILABLE, which clients retry elsewhere: grpc-java's forced shutdown would reset the
        // streams, which clients see as CANCELLED and do not retry. The forced one stays for what
        // is left after that (a stream whose client stopped reading).
        int ended = callsInFlight.endAll();
        log.warn("{} calls still running after the grace period; ended them UNAVAILABLE", ended);
        if (!server.awaitTermination(FORCED_SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
          server.shutdownNow();
          server.awaitTermination(FORCED_SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    } finally {
      // Last: probes see NOT_SERVING until the process is gone.
      probes.ifPresent(Server::shutdownNow);
      scheduler.shutdownNow();
      closeQuietly(storage);
      eventLoops.close();
      metrics.ifPresent(Metrics::close);
      log.info("users-service stopped");
      stopped.complete(null);
    }
  }

  private void drain() throws InterruptedException {
    if (config.shutdownDrain().isPositive()) {
      log.info("not ready; still accepting calls for the {} ms drain delay", config.shutdownDrain().toMillis());
      Thread.sleep(config.shutdownDrain());
    }
  }

  private static void closeQuietly(Storage storage) {
    try {
      storage.resources().close();
    } catch (Exception e) {
      log.warn("closing storage failed", e);
    }
  }
}
