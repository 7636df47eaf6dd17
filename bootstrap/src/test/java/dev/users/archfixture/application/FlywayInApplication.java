package dev.users.archfixture.application;

public class FlywayInApplication {
  org.flywaydb.core.Flyway flyway;
}
