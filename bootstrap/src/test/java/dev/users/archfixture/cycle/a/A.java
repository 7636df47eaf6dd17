package dev.users.archfixture.cycle.a;

public class A {
  dev.users.archfixture.cycle.b.B b;
}
