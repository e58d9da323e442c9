"""Power-flow benchmark: fdnmoo's batch engine vs pandapower and power-grid-model.

Usage::

    python experiments/bench/powerflow.py            # full run (a few minutes)
    python experiments/bench/powerflow.py --quick    # small sizes
    python experiments/bench/powerflow.py --json results/bench_powerflow.json

See :mod:`fdnmoo.bench.powerflow` for what is measured. The figures are
single-core: numba, BLAS and OpenMP are pinned to one thread before numpy is
imported, and power-grid-model runs its batch sequentially.
"""

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from fdnmoo.bench.powerflow import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
