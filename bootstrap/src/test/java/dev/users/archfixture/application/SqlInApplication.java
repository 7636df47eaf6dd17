package dev.users.archfixture.application;

public class SqlInApplication {
  java.sql.Connection connection;
}
