package dev.users.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import dev.users.archfixture.adapter.grpc.GrpcAdapterUsingPersistence;
import dev.users.archfixture.adapter.persistence.SomeRepository;
import dev.users.archfixture.application.FlywayInApplication;
import dev.users.archfixture.application.HikariInApplication;
import dev.users.archfixture.application.JdbiInApplication;
import dev.users.archfixture.application.SomeUseCase;
import dev.users.archfixture.application.SqlInApplication;
import dev.users.archfixture.cycle.a.A;
import dev.users.archfixture.cycle.b.B;
import dev.users.archfixture.domain.DomainUsingApplication;
import dev.users.archfixture.domain.GrpcStatusInDomain;
import dev.users.archfixture.domain.ProtobufInDomain;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Each architecture rule catches a class that breaks it: a rule that cannot fail proves nothing. */
class ArchitectureRulesTest {

  private static final ArchitectureRules RULES = new ArchitectureRules("dev.users.archfixture");

  @ParameterizedTest
  @ValueSource(classes = {
      GrpcStatusInDomain.class, ProtobufInDomain.class, JdbiInApplication.class,
      SqlInApplication.class, HikariInApplication.class, FlywayInApplication.class})
  void frameworkRuleCatchesAFrameworkTypeInTheCore(Class<?> violator) {
    assertViolation(ArchitectureRules::coreIsFrameworkFree, violator.getSimpleName(), violator);
  }

  @Test
  void frameworkRulePassesAPlainCoreClass() {
    var result = RULES.coreIsFrameworkFree().evaluate(new ClassFileImporter().importClasses(SomeUseCase.class));
    assertThat(result.hasViolation()).isFalse();
  }

  @Test
  void inwardRuleCatchesTheDomainUsingTheApplication() {
    assertViolation(ArchitectureRules::dependenciesPointInwards, "DomainUsingApplication",
        DomainUsingApplication.class, SomeUseCase.class);
  }

  @Test
  void inwardRuleCatchesOneAdapterUsingAnother() {
    assertViolation(ArchitectureRules::dependenciesPointInwards, "GrpcAdapterUsingPersistence",
        GrpcAdapterUsingPersistence.class, SomeRepository.class);
  }

  @Test
  void cycleRuleCatchesTwoPackagesUsingEachOther() {
    assertViolation(ArchitectureRules::noCycles, "Cycle detected", A.class, B.class);
  }

  private static void assertViolation(Function<ArchitectureRules, ArchRule> rule, String expected, Class<?>... classes) {
    var result = rule.apply(RULES).evaluate(new ClassFileImporter().importClasses(classes));
    assertThat(result.hasViolation()).isTrue();
    assertThat(result.getFailureReport().getDetails()).anySatisfy(line -> assertThat(line).contains(expected));
  }
}
