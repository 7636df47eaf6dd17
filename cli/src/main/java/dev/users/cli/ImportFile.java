package dev.users.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.users.api.v1.ImportUsersRequest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * The users to import, read lazily line by line: CSV with a header naming the columns
 * {@code email} and {@code display_name} (in any order), or JSON lines of the
 * {@code ImportUsersRequest} message ({@code {"email": ..., "display_name": ...}}). The first
 * non-blank line tells which. A row that does not parse is handed to {@code onUnreadable} with
 * its line number and not sent; blank lines are skipped.
 *
 * <p>CSV fields may be quoted ({@code "Lovelace, Ada"}, {@code ""} for a quote); a record spans
 * one line.
 */
final class ImportFile implements Iterable<ImportUsersRequest> {

  /** A row that was not sent, and why. */
  record UnreadableRow(long line, String reason) {}

  private final BufferedReader reader;
  private final Consumer<UnreadableRow> onUnreadable;
  /** The line of each row sent, by its index in the import: the server reports failures by index. */
  private final List<Long> sentLines = Collections.synchronizedList(new ArrayList<>());

  ImportFile(BufferedReader reader, Consumer<UnreadableRow> onUnreadable) {
    this.reader = reader;
    this.onUnreadable = onUnreadable;
  }

  /** The line the {@code index}-th row sent came from. */
  long lineOf(long index) {
    return sentLines.get(Math.toIntExact(index));
  }

  @Override
  public Iterator<ImportUsersRequest> iterator() {
    return new Rows();
  }

  private final class Rows implements Iterator<ImportUsersRequest> {
    private long line;
    private Format format;
    private ImportUsersRequest next;

    @Override
    public boolean hasNext() {
      while (next == null) {
        var text = readLine();
        if (text == null) {
          return false;
        }
        line++;
        if (text.isBlank()) {
          continue;
        }
        if (format == null) {
          format = Format.of(text, line);
          if (format instanceof Csv) {
            continue;
          }
        }
        try {
          next = format.row(text);
          sentLines.add(line);
        } catch (IllegalArgumentException e) {
          onUnreadable.accept(new UnreadableRow(line, e.getMessage()));
        }
      }
      return true;
    }

    @Override
    public ImportUsersRequest next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      var row = next;
      next = null;
      return row;
    }

    private String readLine() {
      try {
        return reader.readLine();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the file to import at line " + (line + 1), e);
      }
    }
  }

  private sealed interface Format permits Csv, JsonLines {
    /** @throws IllegalArgumentException when the row does not parse, saying why */
    ImportUsersRequest row(String text);

    static Format of(String first, long line) {
      if (first.stripLeading().startsWith("{")) {
        return new JsonLines();
      }
      var header = Csv.fields(first).stream().map(name -> name.strip().toLowerCase(Locale.ROOT)).toList();
      if (!header.contains("email") || !header.contains("display_name")) {
        throw new IllegalArgumentException("line " + line + ": expected a CSV header naming the columns email and"
            + " display_name, or a JSON object per line");
      }
      return new Csv(header.indexOf("email"), header.indexOf("display_name"), header.size());
    }
  }

  private record Csv(int email, int displayName, int columns) implements Format {
    @Override
    public ImportUsersRequest row(String text) {
      var fields = fields(text);
      if (fields.size() != columns) {
        throw new IllegalArgumentException("expected " + columns + " CSV fields, found " + fields.size());
      }
      return ImportUsersRequest.newBuilder()
          .setEmail(fields.get(email))
          .setDisplayName(fields.get(displayName))
          .build();
    }

    /**
     * The fields of one line as RFC 4180 has them, read by Commons CSV. A record must fit on its
     * line, so that every unreadable row is reported by the line it is on.
     */
    static List<String> fields(String text) {
      List<CSVRecord> records;
      try (var parser = CSVParser.parse(text, CSVFormat.RFC4180)) {
        records = parser.getRecords();
      } catch (IOException | UncheckedIOException | IllegalStateException e) {
        // Commons CSV's message names its classes and its own line count, not the file's.
        throw new IllegalArgumentException("not a CSV record: a quoted field is not closed, or a quote is misplaced");
      }
      if (records.size() != 1) {
        throw new IllegalArgumentException("a CSV record must fit on one line");
      }
      return records.getFirst().toList();
    }
  }

  private record JsonLines() implements Format {
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();

    @Override
    public ImportUsersRequest row(String text) {
      var row = ImportUsersRequest.newBuilder();
      try {
        PARSER.merge(text, row);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalArgumentException("not a JSON object of email and display_name: " + e.getMessage());
      }
      return row.build();
    }
  }
}
