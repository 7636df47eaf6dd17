/**
 * Classes that break the architecture rules on purpose, so that {@code ArchitectureRulesTest} can
 * show each rule catching its violation. Test code only: never imported by the production check.
 */
package dev.users.archfixture;
