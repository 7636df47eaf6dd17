package dev.users.benchmark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PgbenchTest {

  // pgbench 15's report of `pgbench -S -M prepared -n -c 4 -j 2 -T 1` on this machine.
  private static final String REPORT = """
      pgbench (15.20 (Debian 15.20-0+deb12u1))
      transaction type: <builtin: select only>
      scaling factor: 1
      query mode: prepared
      number of clients: 4
      number of threads: 2
      maximum number of tries: 1
      duration: 1 s
      number of transactions actually processed: 26945
      number of failed transactions: 3 (0.011%)
      latency average = 0.148 ms
      initial connection time = 8.635 ms
      tps = 26970.865060 (without initial connection time)
      """;

  @Test
  void tpsLatencyTransactionsAndFailuresAreReadFromTheReport() {
    var result = Pgbench.parse(REPORT);

    assertThat(result.tps()).isEqualTo(26970.865060);
    assertThat(result.latencyMillis()).isEqualTo(0.148);
    assertThat(result.transactions()).isEqualTo(26945);
    assertThat(result.failed()).isEqualTo(3);
  }

  @Test
  void aReportWithoutTheFailedLineHadNoFailures() {
    var result = Pgbench.parse(REPORT.replace("number of failed transactions: 3 (0.011%)\n", ""));

    assertThat(result.failed()).isZero();
  }

  @Test
  void outputWithoutTpsIsAnError() {
    assertThatThrownBy(() -> Pgbench.parse("pgbench: error: connection to server failed\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("connection to server failed");
  }
}
