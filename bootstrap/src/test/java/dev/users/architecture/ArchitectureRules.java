package dev.users.architecture;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.library.Architectures.onionArchitecture;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.lang.ArchRule;
import java.util.List;

/**
 * The architecture as executable rules, for a code base rooted at a package: the real one, or a
 * fixture that breaks each rule on purpose. The Maven module graph already stops the inner rings
 * from compiling against the outer ones; these rules guard what the graph cannot see.
 */
final class ArchitectureRules {

  /** What the core must never see: transport, serialization, SQL, pooling, migrations. */
  static final List<String> FRAMEWORK_PACKAGES = List.of(
      "io.grpc..", "com.google.protobuf..", "org.jdbi..", "java.sql..", "javax.sql..",
      "com.zaxxer..", "org.flywaydb..", "org.postgresql..");

  private final String root;

  ArchitectureRules(String root) {
    this.root = root;
  }

  /** Domain and application are plain Java: no framework types, not even in signatures. */
  ArchRule coreIsFrameworkFree() {
    return noClasses()
        .that().resideInAnyPackage(root + ".domain..", root + ".application..")
        .should().dependOnClassesThat().resideInAnyPackage(FRAMEWORK_PACKAGES.toArray(String[]::new))
        .as("domain and application depend on no framework")
        .because("the core must be testable and reusable without transport or storage");
  }

  /**
   * Dependencies point inwards: adapters use the application, the application uses the domain,
   * and adapters never use each other.
   */
  ArchRule dependenciesPointInwards() {
    return onionArchitecture()
        .domainModels(root + ".domain..")
        .applicationServices(root + ".application..")
        .adapter("grpc", root + ".adapter.grpc..")
        .adapter("persistence", root + ".adapter.persistence..")
        .withOptionalLayers(true)
        // The composition root wires every ring together; seeing them all is its job.
        .ignoreDependency(resideInAPackage(root + ".bootstrap.."), DescribedPredicate.alwaysTrue())
        .as("dependencies point inwards and adapters do not know each other");
  }

  /** No package cycles anywhere below the root, so each package can be understood on its own. */
  ArchRule noCycles() {
    return slices().matching(root + ".(**)")
        .should().beFreeOfCycles()
        .as("packages are free of cycles");
  }

  List<ArchRule> all() {
    return List.of(coreIsFrameworkFree(), dependenciesPointInwards(), noCycles());
  }
}
