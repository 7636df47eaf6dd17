package dev.users.archfixture.adapter.grpc;

import dev.users.archfixture.adapter.persistence.SomeRepository;

public class GrpcAdapterUsingPersistence {
  SomeRepository repository;
}
