"""Start-up cost of the command line: `medsee --help` in a fresh interpreter (median of runs).

Speed is measured here, not in the test suite (a loaded CI machine must not fail a test);
tests/cli/test_cli.py checks the behaviour behind it: `--help` imports no heavy library.
Target: under 0.5 s on an idle machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def main(repeats: int = 5) -> int:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "medsee_cli", "--help"], capture_output=True, check=True)
        timings.append(time.perf_counter() - started)
    print(f"medsee --help: median {statistics.median(timings):.3f} s over {repeats} runs "
          f"(min {min(timings):.3f}, max {max(timings):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
