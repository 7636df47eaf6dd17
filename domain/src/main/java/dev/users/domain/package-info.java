/**
 * The user directory's domain: the {@link dev.users.domain.User} aggregate, the value objects it is
 * made of, and the errors a request can meet. Plain Java: nothing here knows about transport or
 * storage.
 */
package dev.users.domain;
