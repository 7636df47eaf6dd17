package dev.users.benchmark;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The benchmark's output: labelled lines as the run goes, and the table of targets at the end. */
final class Report {

  private final List<String[]> rows = new ArrayList<>();

  static void line(String label, String format, Object... args) {
    System.out.printf(Locale.ROOT, "%-26s %s%n", label, String.format(Locale.ROOT, format, args));
    System.out.flush();
  }

  /** Whether a ratio meets its target, in words for the table. */
  enum Goal {
    AT_LEAST("≥"), AT_MOST("≤");

    private final String sign;

    Goal(String sign) {
      this.sign = sign;
    }

    String verdict(double ratio, double target) {
      if (Double.isNaN(ratio)) {
        return "n/a";
      }
      return (this == AT_LEAST ? ratio >= target : ratio <= target) ? "met" : "missed";
    }
  }

  /**
   * A row of the final table: {@code measured / reference = ratio}, against {@code goal target}.
   */
  void target(String figure, String measured, String reference, double ratio, Goal goal, double target) {
    rows.add(new String[] {figure, measured, reference,
        Double.isNaN(ratio) ? "n/a" : String.format(Locale.ROOT, "%.2f", ratio),
        goal.sign + " " + String.format(Locale.ROOT, "%.2f", target), goal.verdict(ratio, target)});
  }

  /** A row of the final table with no ratio, for a figure the issue bounds in its own unit. */
  void figure(String figure, String measured, String bound, String verdict) {
    rows.add(new String[] {figure, measured, "", "", bound, verdict});
  }

  void printTable() {
    var header = new String[] {"figure", "measured", "reference", "ratio", "target", ""};
    var widths = new int[header.length];
    for (var row : concat(header)) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    for (var row : concat(header)) {
      var line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(i == 0 || i == 2 || i == 4 || i == 5 ? pad(row[i], widths[i]) : padLeft(row[i], widths[i]))
            .append(i < row.length - 1 ? "  " : "");
      }
      System.out.println(line.toString().stripTrailing());
    }
    System.out.flush();
  }

  private List<String[]> concat(String[] header) {
    var all = new ArrayList<String[]>();
    all.add(header);
    all.addAll(rows);
    return all;
  }

  private static String pad(String text, int width) {
    return text + " ".repeat(width - text.length());
  }

  private static String padLeft(String text, int width) {
    return " ".repeat(width - text.length()) + text;
  }
}
