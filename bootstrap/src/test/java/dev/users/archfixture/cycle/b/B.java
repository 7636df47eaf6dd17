package dev.users.archfixture.cycle.b;

public class B {
  dev.users.archfixture.cycle.a.A a;
}
