/**
 * The use cases of the user directory. Each sub-package holds one use case: its inbound port (an
 * interface named for what it does), the record it takes, and its implementation. {@link
 * dev.users.application.port} holds the outbound ports the use cases need; adapters implement
 * them.
 */
package dev.users.application;
