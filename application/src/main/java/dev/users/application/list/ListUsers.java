package dev.users.application.list;

/**
 * Reads the directory in id order, one page at a time. A listing is a series of calls, each
 * resuming after the last user of the previous page; users created meanwhile with higher ids show
 * up in later pages, and nothing is held open between calls.
 */
public interface ListUsers {

  UserPage list(ListUsersQuery query);
}
