"""Build-time benchmark of the synthetic feeders (``fdnmoo.cases.synthetic.synthetic_case``).

Usage::

    python experiments/bench/synthetic.py                  # 1k, 10k and 100k buses
    python experiments/bench/synthetic.py --quick          # 1k and 10k buses
    python experiments/bench/synthetic.py --json results/bench_synthetic.json

For every size, in the same run:

* ``synthetic_case(n_bus, n_feeders=n_bus // 1250, seed)``: the whole build. That is
  trees, lengths, conductor sizing against the voltage drop, coordinates, ties,
  candidate tables and validation. The best of ``--repeat`` builds counts;
* the peer: pandapower's own vectorised creation (``create_buses``,
  ``create_ext_grid``, ``create_lines_from_parameters``, ``create_loads``) of
  the same buses, lines and loads, copied from the case just built. It gives
  the bare cost of writing those tables into a pandapower net.

Printed: milliseconds per build, microseconds per bus, the ratio ours/peer
(what generating, sizing and validating adds to creating the tables), and the
per-bus growth from the smallest to the largest size (1.0 = linear). The
figures are wall times of one shared machine and change from run to run;
the ratios between numbers measured in the same run are what to compare.
Numba, BLAS and OpenMP are pinned to one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any, Sequence

# numpy, numba and fdnmoo are imported inside the functions: run as a script, the
# thread pinning below comes first; imported (tests), the process is left as it is
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS")

BUSES_PER_FEEDER = 1250


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000],
                   help="bus counts (default 1000 10000 100000)")
    p.add_argument("--repeat", type=int, default=3, help="builds per size, best counts (default 3)")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="sizes 1000 and 10000")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes = [1_000, 10_000]
    if args.repeat < 1 or any(n < 8 for n in args.sizes):
        p.error("--repeat must be >= 1 and every size >= 8")
    return args


def pandapower_tables(net):
    """Create ``net``'s buses, ext_grids, lines and loads anew with pandapower's vector calls."""
    import pandapower as pp

    out = pp.create_empty_network(sn_mva=float(net.sn_mva), f_hz=float(net.f_hz))
    pp.create_buses(out, len(net.bus), net.bus.vn_kv.to_numpy(float),
                    index=net.bus.index.to_numpy())
    for bus, vm in zip(net.ext_grid.bus, net.ext_grid.vm_pu):
        pp.create_ext_grid(out, int(bus), vm_pu=float(vm))
    line = net.line
    pp.create_lines_from_parameters(
        out, line.from_bus.to_numpy(), line.to_bus.to_numpy(), length_km=line.length_km.to_numpy(),
        r_ohm_per_km=line.r_ohm_per_km.to_numpy(), x_ohm_per_km=line.x_ohm_per_km.to_numpy(),
        c_nf_per_km=line.c_nf_per_km.to_numpy(), max_i_ka=line.max_i_ka.to_numpy(),
        in_service=line.in_service.to_numpy(bool), index=line.index.to_numpy())
    pp.create_loads(out, net.load.bus.to_numpy(), p_mw=net.load.p_mw.to_numpy(),
                    q_mvar=net.load.q_mvar.to_numpy(), index=net.load.index.to_numpy())
    return out


def _best_seconds(build, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = build()
        best = min(best, time.perf_counter() - t0)
    return best, result


def measure(sizes: Sequence[int], repeat: int = 3, seed: int = 5) -> dict[str, Any]:
    """Build times of every size and of the pandapower peer (see module docstring)."""
    from fdnmoo.cases.synthetic import synthetic_case

    synthetic_case(n_bus=200, seed=seed)  # warm-up: imports, numba, pandapower
    points = []
    for n in sizes:
        n_feeders = max(1, n // BUSES_PER_FEEDER)
        ours, case = _best_seconds(lambda: synthetic_case(n_bus=n, n_feeders=n_feeders, seed=seed),
                                   repeat)
        peer, net = _best_seconds(lambda: pandapower_tables(case.net), repeat)
        assert len(net.bus) == n and len(net.line) == len(case.net.line)
        points.append({"n_bus": n, "n_feeders": n_feeders, "n_lines": len(case.net.line),
                       "ours_ms": ours * 1e3, "pandapower_tables_ms": peer * 1e3,
                       "ours_us_per_bus": ours / n * 1e6, "ratio_ours_to_pandapower": ours / peer})
    growth = points[-1]["ours_us_per_bus"] / points[0]["ours_us_per_bus"]
    return {"seed": seed, "repeat": repeat, "points": points, "per_bus_growth": growth}


def format_report(result: dict[str, Any]) -> str:
    rows = [f"{'buses':>8} {'feeders':>7} {'ours ms':>9} {'us/bus':>7} "
            f"{'pandapower tables ms':>21} {'ours/pp':>8}"]
    for p in result["points"]:
        rows.append(f"{p['n_bus']:>8} {p['n_feeders']:>7} {p['ours_ms']:>9.1f} "
                    f"{p['ours_us_per_bus']:>7.1f} {p['pandapower_tables_ms']:>21.1f} "
                    f"{p['ratio_ours_to_pandapower']:>8.2f}")
    first, last = result["points"][0]["n_bus"], result["points"][-1]["n_bus"]
    rows.append(f"time per bus at {last} over {first} buses: {result['per_bus_growth']:.2f} "
                "(1.00 = linear)")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = measure(args.sizes, args.repeat, args.seed)
    print(format_report(result))
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    for _var in THREAD_VARIABLES:
        os.environ.setdefault(_var, "1")
    raise SystemExit(main())
