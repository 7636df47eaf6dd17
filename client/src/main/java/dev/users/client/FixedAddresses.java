package dev.users.client;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.StatusOr;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.Collection;
import java.util.List;

/**
 * Resolves a private target to a fixed list of replica addresses, one address group each, so that
 * {@code round_robin} spreads calls over all of them. Registered only in the registry of the
 * channel that uses it ({@link #registry}), never in the process-wide one: two clients with
 * different lists cannot see each other's.
 */
final class FixedAddresses extends NameResolverProvider {

  private static final String SCHEME = "users-fixed";
  static final String TARGET = SCHEME + ":///replicas";

  private final List<InetSocketAddress> addresses;

  private FixedAddresses(List<InetSocketAddress> addresses) {
    this.addresses = List.copyOf(addresses);
  }

  /** A registry that resolves {@link #TARGET} to {@code addresses}. */
  static NameResolverRegistry registry(List<InetSocketAddress> addresses) {
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException("at least one replica address is required");
    }
    var registry = new NameResolverRegistry();
    registry.register(new FixedAddresses(addresses));
    return registry;
  }

  @Override
  public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
    if (!SCHEME.equals(targetUri.getScheme())) {
      return null;
    }
    var groups = addresses.stream().map(EquivalentAddressGroup::new).toList();
    // TLS checks every replica's certificate against this name: the replicas share one.
    var first = addresses.getFirst();
    var authority = first.getHostString() + ":" + first.getPort();
    return new NameResolver() {
      @Override
      public String getServiceAuthority() {
        return authority;
      }

      @Override
      public void start(Listener2 listener) {
        listener.onResult(ResolutionResult.newBuilder().setAddressesOrError(StatusOr.fromValue(groups)).build());
      }

      @Override
      public void shutdown() {}
    };
  }

  @Override
  public String getDefaultScheme() {
    return SCHEME;
  }

  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    return 5;
  }

  @Override
  public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
    return List.of(InetSocketAddress.class);
  }
}
