package dev.users.benchmark;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JvmHeapTest {

  @Test
  void usedHeapIsTheSumOfTheSurvivorEdenAndOldUsedColumnsAtTheirPeak() {
    // jstat -gc of JDK 25: a header, then one line per sample, in KiB.
    var output = """
            S0C         S1C         S0U         S1U          EC           EU           OC           OU          MC         MU       CCSC      CCSU     YGC     YGCT     FGC    FGCT     CGC    CGCT       GCT  \s
              0.0     4096.0         0.0      4096.0     61440.0      20480.0     196608.0      10240.0    25600.0    24900.5    3072.0    2800.1      3     0.011     0     0.000     2     0.002     0.013
              0.0     4096.0         0.0      2048.0     61440.0      51200.0     196608.0      12288.0    25600.0    24900.5    3072.0    2800.1      4     0.014     0     0.000     2     0.002     0.016
            """;

    assertThat(JvmHeap.peakUsedKib(output)).hasValue(2048 + 51200 + 12288);
  }

  @Test
  void noSampleMeansNoFigure() {
    assertThat(JvmHeap.peakUsedKib("12345 not found\n")).isEmpty();
  }
}
