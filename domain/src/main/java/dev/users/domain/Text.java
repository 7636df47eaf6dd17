package dev.users.domain;

/**
 * Character checks shared by the value objects. Loops over code points rather than {@code
 * codePoints()} streams: every create and update checks its values, and the streams allocated a
 * pipeline per check.
 */
final class Text {

  private Text() {}

  static boolean hasControlCharacter(String text) {
    for (int i = 0; i < text.length(); ) {
      int c = text.codePointAt(i);
      if (Character.isISOControl(c)) {
        return true;
      }
      i += Character.charCount(c);
    }
    return false;
  }

  static boolean hasWhitespace(String text) {
    for (int i = 0; i < text.length(); ) {
      int c = text.codePointAt(i);
      if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
        return true;
      }
      i += Character.charCount(c);
    }
    return false;
  }
}
