package dev.users.client;

import dev.users.api.v1.CreateUserRequest;
import dev.users.api.v1.DeleteUserRequest;
import dev.users.api.v1.GetUserRequest;
import dev.users.api.v1.ImportUsersRequest;
import dev.users.api.v1.ImportUsersResponse;
import dev.users.api.v1.UpdateUserRequest;
import dev.users.api.v1.User;
import dev.users.api.v1.UserServiceGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptors;
import io.grpc.Deadline;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The Java client of the users.v1 service. Build one per service and share it: it is thread-safe,
 * and its channel keeps connections to every replica and spreads calls over them
 * ({@code round_robin}). Close it when done.
 *
 * <p>Every call gets its own deadline, {@link Builder#deadline} after it starts unless a view from
 * {@link #withDeadline} says otherwise. Calls that may safely be repeated are retried on
 * UNAVAILABLE, at most 4 attempts with exponential backoff, within that one deadline: GetUser,
 * ListUsers, CreateUser (each logical create carries one idempotency key for all its attempts),
 * and UpdateUser and DeleteUser when they carry an etag. An unconditional update or delete is
 * never repeated by the client: it could apply twice, or over someone else's change. Failures
 * are thrown as {@link UsersClientException} subclasses.
 */
public final class UsersClient implements AutoCloseable {

  private static final RetryPolicy RETRY_POLICY = RetryPolicy.DEFAULT;

  private final ManagedChannel channel;
  private final boolean ownsChannel;
  private final Duration shutdownTimeout;
  private final CallDeadlines.Timeouts timeouts;
  private final UserServiceGrpc.UserServiceBlockingStub blocking;
  private final UserServiceGrpc.UserServiceStub async;

  private UsersClient(ManagedChannel channel, boolean ownsChannel, Duration shutdownTimeout,
      CallDeadlines.Timeouts timeouts, BearerToken token) {
    this.channel = channel;
    this.ownsChannel = ownsChannel;
    this.shutdownTimeout = shutdownTimeout;
    this.timeouts = timeouts;
    var calls = ClientInterceptors.intercept(channel, new RequestIds(), new CallDeadlines());
    var blocking = UserServiceGrpc.newBlockingStub(calls).withOption(CallDeadlines.TIMEOUTS, timeouts);
    var async = UserServiceGrpc.newStub(calls).withOption(CallDeadlines.TIMEOUTS, timeouts);
    this.blocking = token == null ? blocking : blocking.withCallCredentials(token);
    this.async = token == null ? async : async.withCallCredentials(token);
  }

  /**
   * A client of the service at {@code target}: {@code dns:///host:port} (every address the name
   * resolves to is used) or {@code host:port}.
   */
  public static Builder forTarget(String target) {
    return new Builder(Objects.requireNonNull(target), null);
  }

  /** A client of several replicas at fixed addresses, calls spread over them. */
  public static Builder forAddresses(List<InetSocketAddress> replicas) {
    return new Builder(FixedAddresses.TARGET, List.copyOf(replicas));
  }

  /**
   * This client with another deadline for each call, e.g. a longer one for a listing. The view
   * shares this client's channel: closing it does nothing, closing this client closes both.
   *
   * @param deadline for each unary and streaming call, counted from its start
   */
  public UsersClient withDeadline(Duration deadline) {
    requirePositive(deadline, "deadline");
    return new UsersClient(this, new CallDeadlines.Timeouts(deadline, deadline));
  }

  private UsersClient(UsersClient shared, CallDeadlines.Timeouts timeouts) {
    this.channel = shared.channel;
    this.ownsChannel = false;
    this.shutdownTimeout = shared.shutdownTimeout;
    this.timeouts = timeouts;
    this.blocking = shared.blocking.withOption(CallDeadlines.TIMEOUTS, timeouts);
    this.async = shared.async.withOption(CallDeadlines.TIMEOUTS, timeouts);
  }

  /**
   * Registers a user, with a fresh idempotency key that all of this call's attempts share: a
   * retry after a lost answer returns the user the first attempt created.
   *
   * @throws UsersClientException.InvalidArgument when the email or display name is invalid
   * @throws UsersClientException.EmailTaken when another user has the email
   */
  public User createUser(String email, String displayName) {
    return createUser(email, displayName, UUID.randomUUID().toString());
  }

  /**
   * Registers a user under the caller's idempotency key (at most 128 printable ASCII characters):
   * calling again with the same key returns the user created first, even from another process.
   *
   * @throws IllegalArgumentException when the key is empty: without one, a retry could create twice
   */
  public User createUser(String email, String displayName, String idempotencyKey) {
    if (idempotencyKey.isEmpty()) {
      throw new IllegalArgumentException("an idempotency key is required: CreateUser is retried");
    }
    var request = CreateUserRequest.newBuilder()
        .setEmail(email)
        .setDisplayName(displayName)
        .setIdempotencyKey(idempotencyKey)
        .build();
    return call(() -> blocking.createUser(request).getUser());
  }

  /**
   * The user with the id.
   *
   * @throws UsersClientException.NotFound when no user has the id
   */
  public User getUser(String id) {
    var request = GetUserRequest.newBuilder().setId(id).build();
    return call(() -> blocking.getUser(request).getUser());
  }

  /**
   * Changes the fields of {@code request.user} named by its update mask (every mutable field when
   * the mask is empty). With {@code user.etag} set the change applies only to that version of the
   * user, and is retried on UNAVAILABLE; without it, it is sent once.
   *
   * @throws UsersClientException.EtagMismatch when the user changed since the etag was read
   * @throws UsersClientException.EmailTaken when the new email belongs to another user
   * @throws UsersClientException.NotFound when no user has the id
   */
  public User updateUser(UpdateUserRequest request) {
    var conditional = !request.getUser().getEtag().isEmpty();
    return write(conditional, stub -> stub.updateUser(request).getUser());
  }

  /**
   * Deletes a user, only if its etag is still {@code etag} when that is non-empty (then retried on
   * UNAVAILABLE); an empty etag deletes whatever the user's version, in one attempt.
   *
   * @throws UsersClientException.EtagMismatch when the user changed since the etag was read
   * @throws UsersClientException.NotFound when no user has the id
   */
  public void deleteUser(String id, String etag) {
    var request = DeleteUserRequest.newBuilder().setId(id).setEtag(etag).build();
    write(!etag.isEmpty(), stub -> stub.deleteUser(request));
  }

  /** Deletes a user whatever its version, in one attempt. */
  public void deleteUser(String id) {
    deleteUser(id, "");
  }

  /**
   * Every user, in creation order, read lazily as the stream is consumed; see
   * {@link #listUsers(int, String)}.
   */
  public Stream<User> listUsers() {
    return listUsers(0, "");
  }

  /**
   * Users in creation order, read lazily: the server sends a message only when the previous one
   * was consumed. A listing broken by UNAVAILABLE resumes where it stopped, with no user skipped
   * or repeated; other failures are thrown from the stream's operations. Each ListUsers call has
   * the streaming deadline. Close the stream (try-with-resources) when not reading it to the end,
   * which cancels the call.
   *
   * @param pageSize the most users to return, 0 for all
   * @param pageToken where to start: empty for the beginning, or a {@code next_page_token}
   */
  public Stream<User> listUsers(int pageSize, String pageToken) {
    return listUsers(pageSize, pageToken, rest -> { });
  }

  /**
   * Like {@link #listUsers(int, String)}, for a caller that lists a page at a time: once the stream
   * has been read to its end, {@code whereTheRestStarts} is given the {@code next_page_token} to
   * pass for the next page, or an empty one when no user follows. A stream closed early tells it
   * nothing.
   */
  public Stream<User> listUsers(int pageSize, String pageToken, Consumer<String> whereTheRestStarts) {
    if (pageSize < 0) {
      throw new IllegalArgumentException("pageSize must not be negative: " + pageSize);
    }
    var listing = new ResumingListing(blocking::listUsers, RETRY_POLICY, pageSize, pageToken, whereTheRestStarts);
    var users = Spliterators.spliteratorUnknownSize(listing, Spliterator.ORDERED | Spliterator.NONNULL);
    return StreamSupport.stream(users, false).onClose(listing::close);
  }

  /**
   * Creates many users in one ImportUsers call, reading the items only as fast as the connection
   * accepts them, so that a large or generated input never piles up in memory. The items are read
   * on a gRPC thread. Not retried: an import that fails part-way leaves the items before the
   * failure written.
   *
   * @return how many were created and why the others were not
   */
  public ImportOutcome importUsers(Iterable<ImportUsersRequest> items) {
    var response = new CompletableFuture<ImportUsersResponse>();
    var itemFailure = new AtomicReference<RuntimeException>();
    var requests = new AtomicReference<ClientCallStreamObserver<ImportUsersRequest>>();
    async.importUsers(new ClientResponseObserver<ImportUsersRequest, ImportUsersResponse>() {
      private final Iterator<ImportUsersRequest> pending = items.iterator();
      private boolean done;

      @Override
      public void beforeStart(ClientCallStreamObserver<ImportUsersRequest> stream) {
        requests.set(stream);
        stream.setOnReadyHandler(() -> sendWhileReady(stream));
      }

      // grpc-java runs the handler on one thread at a time, so `pending` needs no lock.
      private void sendWhileReady(ClientCallStreamObserver<ImportUsersRequest> stream) {
        if (done) {
          return;
        }
        try {
          while (stream.isReady() && pending.hasNext()) {
            stream.onNext(pending.next());
          }
          if (!pending.hasNext()) {
            done = true;
            stream.onCompleted();
          }
        } catch (RuntimeException e) {
          done = true;
          itemFailure.set(e);
          stream.cancel("reading the items to import failed", e);
        }
      }

      @Override
      public void onNext(ImportUsersResponse value) {
        response.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        response.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    });
    try {
      var outcome = response.get();
      return new ImportOutcome(outcome.getCreatedCount(), outcome.getRejectedCount(),
          outcome.getFailuresList().stream()
              .map(failure -> new ImportOutcome.Failure(failure.getIndex(), UsersClientException.from(failure.getStatus())))
              .toList());
    } catch (InterruptedException e) {
      requests.get().cancel("interrupted", e);
      Thread.currentThread().interrupt();
      throw UsersClientException.from(Status.CANCELLED.withDescription("interrupted").withCause(e).asRuntimeException());
    } catch (ExecutionException e) {
      if (itemFailure.get() != null) {
        throw itemFailure.get();
      }
      throw UsersClientException.from(Status.fromThrowable(e.getCause()).asRuntimeException(
          Status.trailersFromThrowable(e.getCause())));
    }
  }

  /** Like {@link #importUsers(Iterable)}, consuming the stream. */
  public ImportOutcome importUsers(Stream<ImportUsersRequest> items) {
    return importUsers(items::iterator);
  }

  /**
   * Stops the channel: calls in progress may finish within the shutdown timeout, then the rest are
   * cancelled. Does nothing on a view from {@link #withDeadline}.
   */
  @Override
  public void close() {
    if (!ownsChannel) {
      return;
    }
    channel.shutdown();
    try {
      if (!channel.awaitTermination(shutdownTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A write that is retried only when conditional. grpc-java chooses a retry policy per method, not
   * per request, so UpdateUser and DeleteUser have none in the service config and the client
   * repeats the conditional ones itself, with the same policy and one deadline for every attempt.
   * With the etag, an attempt that took effect but lost its answer makes the repeat fail
   * ETAG_MISMATCH instead of applying twice.
   */
  private <T> T write(boolean conditional, Function<UserServiceGrpc.UserServiceBlockingStub, T> attempt) {
    if (!conditional) {
      return call(() -> attempt.apply(blocking));
    }
    var stub = blocking.withDeadline(Deadline.after(timeouts.unary().toNanos(), TimeUnit.NANOSECONDS));
    for (var attempts = 1; ; attempts++) {
      try {
        return attempt.apply(stub);
      } catch (StatusRuntimeException e) {
        var delay = RETRY_POLICY.delayBeforeRetry(attempts, e.getStatus(), e.getTrailers());
        if (delay.isEmpty()) {
          throw UsersClientException.from(e);
        }
        try {
          Thread.sleep(delay.get().toMillis());
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw UsersClientException.from(e);
        }
      }
    }
  }

  private static <T> T call(Supplier<T> call) {
    try {
      return call.get();
    } catch (StatusRuntimeException e) {
      throw UsersClientException.from(e);
    }
  }

  private static void requirePositive(Duration duration, String name) {
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(name + " must be positive: " + duration);
    }
  }

  /** How to reach and call the service; {@link #build} once and share the client. */
  public static final class Builder {

    private final String target;
    private final List<InetSocketAddress> replicas;
    private boolean plaintext;
    private Path trustedCertificates;
    private Path certificateChain;
    private Path privateKey;
    private Supplier<String> tokens;
    private boolean tokenOverPlaintext;
    private Duration deadline = Duration.ofSeconds(10);
    private Duration streamingDeadline = Duration.ofMinutes(10);
    private Duration shutdownTimeout = Duration.ofSeconds(5);

    private Builder(String target, List<InetSocketAddress> replicas) {
      this.target = target;
      this.replicas = replicas;
    }

    /** Connects without TLS: only for a local or test server. TLS is the default. */
    public Builder usePlaintext() {
      this.plaintext = true;
      return this;
    }

    /** Trusts the server certificates issued by the CA(s) in this PEM file instead of the JDK's. */
    public Builder trustedCertificates(Path caFile) {
      this.trustedCertificates = caFile;
      return this;
    }

    /** Presents this client certificate (mutual TLS): PEM chain and its PKCS#8 PEM private key. */
    public Builder clientCertificate(Path certificateChain, Path privateKey) {
      this.certificateChain = certificateChain;
      this.privateKey = privateKey;
      return this;
    }

    /**
     * Sends {@code authorization: Bearer <token>} on every call, asking {@code tokens} each time
     * so that it may return a refreshed token. Withheld from plaintext connections (the call fails
     * UNAUTHENTICATED) unless {@link #allowTokenOverPlaintext}.
     */
    public Builder bearerToken(Supplier<String> tokens) {
      this.tokens = tokens;
      return this;
    }

    /** Sends the bearer token over plaintext too: for a local server with no TLS. */
    public Builder allowTokenOverPlaintext() {
      this.tokenOverPlaintext = true;
      return this;
    }

    /** The deadline of each unary call, from its start; 10 seconds by default. */
    public Builder deadline(Duration deadline) {
      requirePositive(deadline, "deadline");
      this.deadline = deadline;
      return this;
    }

    /**
     * The deadline of each ListUsers and ImportUsers call; 10 minutes by default, the server's
     * own cap on an import.
     */
    public Builder streamingDeadline(Duration deadline) {
      requirePositive(deadline, "streamingDeadline");
      this.streamingDeadline = deadline;
      return this;
    }

    /** How long {@link UsersClient#close} lets calls in progress finish; 5 seconds by default. */
    public Builder shutdownTimeout(Duration timeout) {
      this.shutdownTimeout = timeout;
      return this;
    }

    /** Connects (lazily, on the first call) and returns the client. */
    public UsersClient build() {
      var credentials = credentials();
      var transport = replicas == null
          ? Grpc.newChannelBuilder(target, credentials)
          : Grpc.newChannelBuilder(target, credentials, FixedAddresses.registry(replicas));
      // The server accepts a ping every 30 s even without calls; once a minute stays well inside
      // that, and finds a dead replica before a call is sent to it.
      transport.keepAliveTime(1, TimeUnit.MINUTES)
          .keepAliveTimeout(20, TimeUnit.SECONDS)
          .keepAliveWithoutCalls(true);
      return build(transport);
    }

    /** The client over a channel the caller configured the transport of (tests: in-process). */
    UsersClient build(ManagedChannelBuilder<?> transport) {
      var retried = List.<io.grpc.MethodDescriptor<?, ?>>of(UserServiceGrpc.getGetUserMethod(),
          UserServiceGrpc.getListUsersMethod(), UserServiceGrpc.getCreateUserMethod());
      var channel = transport
          .defaultServiceConfig(RETRY_POLICY.serviceConfig(retried))
          .disableServiceConfigLookUp()
          .enableRetry()
          .build();
      var token = tokens == null ? null : new BearerToken(tokens, tokenOverPlaintext);
      return new UsersClient(channel, true, shutdownTimeout,
          new CallDeadlines.Timeouts(deadline, streamingDeadline), token);
    }

    private ChannelCredentials credentials() {
      if (plaintext) {
        if (trustedCertificates != null || certificateChain != null) {
          throw new IllegalStateException("plaintext was asked for together with TLS certificates");
        }
        return InsecureChannelCredentials.create();
      }
      try {
        var tls = TlsChannelCredentials.newBuilder();
        if (trustedCertificates != null) {
          tls.trustManager(trustedCertificates.toFile());
        }
        if (certificateChain != null) {
          tls.keyManager(certificateChain.toFile(), privateKey.toFile());
        }
        return tls.build();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the TLS certificates", e);
      }
    }
  }
}
