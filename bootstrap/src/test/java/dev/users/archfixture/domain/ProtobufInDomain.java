package dev.users.archfixture.domain;

public class ProtobufInDomain {
  com.google.protobuf.Timestamp createTime;
}
