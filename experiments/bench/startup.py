"""Start-up time of the ``fdnmoo`` command against plain-Python peers.

Usage::

    python experiments/bench/startup.py            # 7 runs per command
    python experiments/bench/startup.py -n 15

Every command runs as a fresh subprocess with the interpreter running this
script; the median wall time of ``n`` runs (after one warm-up run that fills the
OS file cache and numba's on-disk cache) is compared with the peer measured in
the same run:

==========================  ================================  =====
command                     peer                              goal
==========================  ================================  =====
``fdnmoo --help``           ``python -c "import numpy, pandas"``  1.5
``fdnmoo cases``            ``python -c "import numpy, pandas"``  1.5
``fdnmoo pf ieee33``        ``python -c "import pandapower"``     1.5
==========================  ================================  =====

The ratios are what the goals refer to (issue 7); absolute times depend on the
machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

#: (label, argv after the interpreter)
PEERS = {
    "numpy+pandas": ["-c", "import numpy, pandas"],
    "pandapower": ["-c", "import pandapower"],
}
_CLI = ["-c", "import sys; from fdnmoo.cli import main; sys.exit(main(sys.argv[1:]))"]
#: (label, argv, peer label, goal ratio)
COMMANDS = [
    ("fdnmoo --help", _CLI + ["--help"], "numpy+pandas", 1.5),
    ("fdnmoo cases", _CLI + ["cases"], "numpy+pandas", 1.5),
    ("fdnmoo pf ieee33", _CLI + ["pf", "ieee33"], "pandapower", 1.5),
]


def time_command(argv: list[str], n: int) -> float:
    """Median wall time in seconds of ``n`` runs of ``python argv`` (after one warm-up)."""
    times = []
    for k in range(n + 1):
        start = time.perf_counter()
        subprocess.run([sys.executable, *argv], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        if k:  # the first run is the warm-up
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=7, help="timed runs per command (default 7)")
    args = parser.parse_args(argv)
    peers = {label: time_command(cmd, args.n) for label, cmd in PEERS.items()}
    print(f"{'command':<20} {'median s':>9}  {'peer':<14} {'peer s':>7} {'ratio':>6}  goal")
    for label, cmd, peer, goal in COMMANDS:
        t = time_command(cmd, args.n)
        ratio = t / peers[peer]
        print(f"{label:<20} {t:9.3f}  {peer:<14} {peers[peer]:7.3f} {ratio:6.2f}  "
              f"<= {goal} {'ok' if ratio <= goal else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
