package dev.users.domain;

/**
 * The version of a user as callers see it: an opaque token that changes with every change of the
 * user, sent back to make a change conditional on nobody having changed the user since it was
 * read.
 */
public record Etag(long version) {

  public Etag {
    if (version < 1) {
      throw new IllegalArgumentException("versions start at 1, got " + version);
    }
  }

  /**
   * Reads an etag in the form this service issues; it is not signed, so any well-formed one passes
   * here, and a stale one is refused later by the version check.
   *
   * @throws InvalidInputException naming the field {@code etag} when the text is not one
   */
  public static Etag parse(String text) {
    try {
      long version = Long.parseLong(text, Character.MAX_RADIX);
      if (version >= 1 && text.equals(Long.toString(version, Character.MAX_RADIX))) {
        return new Etag(version);
      }
    } catch (NumberFormatException e) {
      // Reported below, like every other text that is not an etag.
    }
    throw InvalidInputException.of("etag", "is not a valid etag: send back the etag of a user read from this service unchanged");
  }

  @Override
  public String toString() {
    return Long.toString(version, Character.MAX_RADIX);
  }
}
