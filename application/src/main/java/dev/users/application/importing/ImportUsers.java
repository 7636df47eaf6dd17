package dev.users.application.importing;

import dev.users.application.access.Caller;
import dev.users.application.access.PermissionDeniedException;
import java.util.List;

/**
 * Creates many users, one batch at a time. Each item succeeds or fails on its own: an invalid
 * item or a taken email rejects that item only.
 */
public interface ImportUsers {

  /**
   * Creates the valid items of a batch whose emails are free, in one write.
   *
   * @return one outcome per item, in the order of the items
   * @throws PermissionDeniedException when the caller may not import users
   */
  List<ImportOutcome> importBatch(Caller caller, List<ImportItem> items);
}
