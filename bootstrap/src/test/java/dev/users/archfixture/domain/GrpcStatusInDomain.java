package dev.users.archfixture.domain;

public class GrpcStatusInDomain {
  io.grpc.Status status;
}
