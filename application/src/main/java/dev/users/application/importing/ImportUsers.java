package dev.users.application.importing;

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
   */
  List<ImportOutcome> importBatch(List<ImportItem> items);
}
