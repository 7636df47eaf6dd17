package dev.users.cli;

import java.io.PrintStream;
import java.util.concurrent.TimeUnit;

/**
 * A count and rate on one stderr line, redrawn at most four times a second: only on a terminal,
 * so that redirected output and logs stay clean.
 */
final class Progress {

  private static final long REDRAW_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

  private final PrintStream err;
  private final boolean shown;
  private final String what;
  private final long start = System.nanoTime();
  private long count;
  private long drawn = start;

  Progress(PrintStream err, boolean shown, String what) {
    this.err = err;
    this.shown = shown;
    this.what = what;
  }

  void tick() {
    count++;
    var now = System.nanoTime();
    if (shown && now - drawn >= REDRAW_NANOS) {
      drawn = now;
      draw(now);
    }
  }

  void done() {
    if (shown && count > 0) {
      draw(System.nanoTime());
      err.println();
    }
  }

  private void draw(long now) {
    var seconds = Math.max(now - start, 1) / 1e9;
    err.printf("\r%s %,d (%,.0f/s)", what, count, count / seconds);
    err.flush();
  }
}
