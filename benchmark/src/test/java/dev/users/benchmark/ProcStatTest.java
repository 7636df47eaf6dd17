package dev.users.benchmark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProcStatTest {

  // A real line of /proc/<pid>/stat, with a command name holding a space and parentheses.
  private static final String LINE = "4242 (java (main) x) S 4200 4242 4200 0 -1 4194560 52107 0 12 0"
      + " 1530 271 7 9 20 0 38 0 9177 5338419200 49512 18446744073709551615 1 1 0 0 0 0 4 0 16800975"
      + " 0 0 0 17 1 0 0 0 0 0";

  @Test
  void cpuTimesAreCountedFromTheLastParenthesisSoACommandNameWithSpacesDoesNotShiftThem() {
    var stat = ProcStat.parse(LINE);

    assertThat(stat.pid()).isEqualTo(4242);
    assertThat(stat.comm()).isEqualTo("java (main) x");
    assertThat(stat.zombie()).isFalse();
    assertThat(stat.ppid()).isEqualTo(4200);
    assertThat(stat.ticks()).isEqualTo(1530 + 271);
    assertThat(stat.reapedChildrenTicks()).isEqualTo(7 + 9);
  }

  @Test
  void aProcessInStateZIsAZombie() {
    assertThat(ProcStat.parse(LINE.replace(") S 4200", ") Z 4200")).zombie()).isTrue();
  }

  @Test
  void aLineWithoutTheCommandNameIsRefused() {
    assertThatThrownBy(() -> ProcStat.parse("4242 S 4200 4242"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void residentSetSizeIsTheVmRssLineInKib() {
    var status = "Name:\tjava\nVmPeak:\t 9000000 kB\nVmHWM:\t  300000 kB\nVmRSS:\t  123456 kB\nRssAnon:\t  100000 kB\n";

    assertThat(ProcStat.residentKib(status)).isEqualTo(123_456);
  }

  @Test
  void theJitCompilerThreadsAreTheC1AndC2CompilerThreadsByTheirTruncatedNames() {
    assertThat(ProcStat.parse(LINE.replace("(java (main) x)", "(C2 CompilerThre)")).compilerThread()).isTrue();
    assertThat(ProcStat.parse(LINE.replace("(java (main) x)", "(C1 CompilerThre)")).compilerThread()).isTrue();
    assertThat(ProcStat.parse(LINE.replace("(java (main) x)", "(users-call-17)")).compilerThread()).isFalse();
    assertThat(ProcStat.parse(LINE.replace("(java (main) x)", "(VM Thread)")).compilerThread()).isFalse();
  }

  @Test
  void theCompilerTicksOfThisJvmAreAPartOfItsCpuTime() {
    long pid = ProcessHandle.current().pid();

    long compiling = ProcStat.compilerTicks(pid);

    assertThat(compiling).isPositive().isLessThanOrEqualTo(ProcStat.read(pid).orElseThrow().ticks());
  }
}
