package dev.users.adapter.persistence;

import static java.util.stream.Collectors.counting;
import static java.util.stream.Collectors.groupingBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/** Calls made at once from many threads, for the tests of races. */
public final class Concurrently {

  private Concurrently() {}

  /** Runs the tasks at once, each on its own thread, and returns their results in order. */
  public static <T> List<T> run(List<Callable<T>> tasks) throws InterruptedException, ExecutionException {
    var start = new CyclicBarrier(tasks.size());
    try (var executor = Executors.newFixedThreadPool(tasks.size())) {
      var futures = new ArrayList<Future<T>>();
      for (var task : tasks) {
        futures.add(executor.submit(() -> {
          start.await();
          return task.call();
        }));
      }
      var results = new ArrayList<T>();
      for (var future : futures) {
        results.add(future.get());
      }
      return results;
    }
  }

  /** How many outcomes of each {@link Outcome#kind()}, printed so that a run shows them. */
  public static Map<String, Long> countAndPrint(List<? extends Outcome<?>> outcomes) {
    Map<String, Long> counts = outcomes.stream().collect(groupingBy(Outcome::kind, TreeMap::new, counting()));
    System.out.println("outcomes: " + counts);
    return counts;
  }

  /** What one call did: its value, or the exception it threw. */
  public record Outcome<T>(T value, RuntimeException failure) {

    public static <T> Outcome<T> of(Supplier<T> call) {
      try {
        return new Outcome<>(call.get(), null);
      } catch (RuntimeException e) {
        return new Outcome<>(null, e);
      }
    }

    public static Outcome<Void> ofAction(Runnable call) {
      return of(() -> {
        call.run();
        return null;
      });
    }

    /** {@code "done"}, or the simple name of the exception's class. */
    public String kind() {
      return failure == null ? "done" : failure.getClass().getSimpleName();
    }
  }
}
