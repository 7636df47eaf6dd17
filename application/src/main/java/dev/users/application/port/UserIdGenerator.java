package dev.users.application.port;

import dev.users.domain.UserId;

/**
 * Hands out ids for new users. Ids must be unique, and should increase over time so that the id
 * order is the creation order.
 */
@FunctionalInterface
public interface UserIdGenerator {

  UserId next();
}
