package dev.users.benchmark;

import java.util.List;
import java.util.function.ToDoubleFunction;

/** Medians over the rounds of a run. */
final class Stats {

  private Stats() {}

  static double median(List<Double> values) {
    var sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int middle = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }

  /** The median of {@code figure} over {@code items}. */
  static <T> double median(List<T> items, ToDoubleFunction<T> figure) {
    return median(items.stream().map(item -> figure.applyAsDouble(item)).toList());
  }
}
