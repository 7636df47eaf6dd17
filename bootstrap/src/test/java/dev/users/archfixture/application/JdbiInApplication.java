package dev.users.archfixture.application;

public class JdbiInApplication {
  org.jdbi.v3.core.Jdbi jdbi;
}
