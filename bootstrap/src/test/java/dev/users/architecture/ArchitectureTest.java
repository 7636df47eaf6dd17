package dev.users.architecture;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The production code obeys every architecture rule. */
class ArchitectureTest {

  private static final com.tngtech.archunit.core.domain.JavaClasses PRODUCTION = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      // Other modules' test jars (the persistence test support) are tests too.
      .withImportOption(location -> !location.contains("-tests.jar"))
      .importPackages("dev.users");

  static Stream<Named<ArchRule>> rules() {
    return new ArchitectureRules("dev.users").all().stream().map(rule -> Named.of(rule.getDescription(), rule));
  }

  @ParameterizedTest
  @MethodSource("rules")
  void productionCodeObeys(ArchRule rule) {
    rule.check(PRODUCTION);
  }
}
