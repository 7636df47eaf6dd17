package dev.users.domain;

/** Character checks shared by the value objects. */
final class Text {

  private Text() {}

  static boolean hasControlCharacter(String text) {
    return text.codePoints().anyMatch(Character::isISOControl);
  }

  static boolean hasWhitespace(String text) {
    return text.codePoints().anyMatch(c -> Character.isWhitespace(c) || Character.isSpaceChar(c));
  }
}
