package dev.users.archfixture.application;

public class SomeUseCase {}
