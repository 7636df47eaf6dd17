package dev.users.archfixture.adapter.persistence;

public class SomeRepository {}
