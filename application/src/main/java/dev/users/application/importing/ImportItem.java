package dev.users.application.importing;

/** One user to import, as raw text: it is validated by the import, item by item. */
public record ImportItem(String email, String displayName) {}
