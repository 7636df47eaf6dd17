package dev.users.bootstrap;

import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.status.ErrorStatus;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes its lines to standard output through a buffer of its own, for the access log's queue,
 * which flushes it at the end of each batch of lines it hands over: under load, one write(2) for
 * many lines instead of one per line, as logback's ConsoleAppender makes (System.out writes every
 * call through). Alone, with {@code immediateFlush} false, it would hold lines until the buffer
 * fills; it is meant only under a queue that flushes it.
 *
 * <p>The buffer is {@value #BUFFER_BYTES} bytes, the size up to which a write to a pipe is atomic
 * (PIPE_BUF), and it is written out only between lines: the lines of other appenders on the same
 * standard output never land inside one of its lines. Stopping flushes it and leaves standard
 * output open for the others.
 */
final class BufferedStdoutAppender<E> extends OutputStreamAppender<E> {

  static final int BUFFER_BYTES = 4096;

  @Override
  public void start() {
    // System.out as it is now (tests replace it), behind a buffer: a PrintStream writes each call
    // through, so a full buffer or a flush becomes one write of whole lines.
    setOutputStream(new BufferedOutputStream(System.out, BUFFER_BYTES));
    super.start();
  }

  @Override
  protected void closeOutputStream() {
    OutputStream out = getOutputStream();
    if (out == null) {
      return;
    }
    try {
      out.flush();
    } catch (IOException e) {
      addStatus(new ErrorStatus("could not flush standard output", this, e));
    }
  }
}
