package dev.users.archfixture.application;

public class HikariInApplication {
  com.zaxxer.hikari.HikariDataSource pool;
}
