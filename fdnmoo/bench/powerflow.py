"""Power-flow benchmark: the batch engine against pandapower and power-grid-model.

One run measures, for the same seeded random load scenarios (every bus's
demand scaled by its own factor drawn uniformly from ``[0, 2]``):

1. our :class:`~fdnmoo.powerflow.BatchPowerFlow`: microseconds per power flow
   (best of a few repeats after a warm-up run that compiles the numba
   kernels; the timed region is ``pf.run(P, Q)`` plus ``res.vm_pu``),
   scenarios per second and mean sweep count;
2. ``pandapower.runpp`` with default options, called once per scenario with
   the loads changed before each call (milliseconds per call);
3. power-grid-model (extra ``bench``) batch power flow with a ``sym_load``
   update for all scenarios, sequential (``threading=-1``), Newton-Raphson and
   iterative current (microseconds per power flow);
4. the largest voltage-magnitude difference of every engine from pandapower on
   the first few scenarios, and between our engine and power-grid-model on all
   scenarios, so that the timings compare equal results.

It does so on ``ieee33``, on a 1,000-bus synthetic feeder, on a SimBench MV
grid as the ``simbench`` package ships it (bus-bus switches, ties open by
switch, two HV/MV transformers; power-grid-model through power-grid-model-io's
converter), and over a scaling
series of synthetic feeders (1k-10k buses, one feeder per 250 buses) for our
engine (and power-grid-model), and prints a table with the speed-up ratios and
the issue's targets.

Run ``python experiments/bench/powerflow.py [--quick] [--json PATH]``.

>>> report = run_benchmark(BenchConfig.quick())          # doctest: +SKIP
>>> print(format_report(report))                         # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any, Callable, Sequence

import numpy as np

from ..powerflow import BatchPowerFlow
from .pgm_peer import PGM_METHODS, PgmNetwork, pgm_available, pgm_network, pgm_update, time_pgm
from .report import format_report
from .scenarios import Scenarios, random_scenarios

__all__ = [
    "BenchConfig", "Scenarios", "PgmNetwork", "random_scenarios", "time_ours", "time_pandapower",
    "pgm_available", "pgm_network", "pgm_update", "time_pgm", "max_voltage_difference", "bench_case",
    "scaling_series", "evaluate_targets", "run_benchmark", "format_report", "config_from_args",
    "main",
]


# --- configuration -------------------------------------------------------------------------
@dataclass
class BenchConfig:
    """What one benchmark run measures.

    Parameters
    ----------
    seed : int
        Seed of the scenario generator (and of the synthetic feeders).
    scale_range : tuple of float
        Per-bus demand scaling factors are drawn uniformly from this range.
    ieee33_scenarios : int
        Scenarios solved by the batch engines on ``ieee33``.
    feeder_buses : int
        Size of the synthetic feeder compared with every peer.
    feeder_scenarios : int
        Scenarios on that feeder.
    scaling_buses : tuple of int
        Sizes of the synthetic feeders of the scaling series.
    scaling_bus_scenarios : int
        Scenarios x buses per scaling point (scenarios = this // n_bus, at least 20).
    buses_per_feeder : int
        Synthetic cases get ``max(1, n_bus // buses_per_feeder)`` feeders.
    pandapower_calls : int
        Timed ``runpp`` calls per case (after one untimed warm-up call).
    repeats : int
        Timed runs of a batch engine; the best one is reported.
    accuracy_scenarios : int
        Scenarios (the first ones, at most ``pandapower_calls``) compared with
        pandapower.
    pgm : bool
        Include power-grid-model (skipped with a note when it is not installed).
    scaling_peers : bool
        Time power-grid-model (Newton-Raphson) on the scaling series too.
    simbench_grid : str
        SimBench code of the real MV grid compared with every peer (as the
        package ships it: bus-bus switches, open line switches, HV/MV
        transformers); empty to skip.
    simbench_scenarios : int
        Scenarios on that grid.
    """

    seed: int = 0
    scale_range: tuple[float, float] = (0.0, 2.0)
    ieee33_scenarios: int = 20_000
    feeder_buses: int = 1_000
    feeder_scenarios: int = 2_000
    scaling_buses: tuple[int, ...] = (1_000, 2_000, 5_000, 10_000)
    scaling_bus_scenarios: int = 2_000_000
    buses_per_feeder: int = 250
    pandapower_calls: int = 30
    repeats: int = 5
    accuracy_scenarios: int = 5
    pgm: bool = True
    scaling_peers: bool = True
    simbench_grid: str = "1-MV-semiurb--0-sw"
    simbench_scenarios: int = 5_000

    @classmethod
    def quick(cls, **overrides: Any) -> "BenchConfig":
        """Small sizes for a run of a few seconds (``--quick``)."""
        small = dict(ieee33_scenarios=1_000, feeder_buses=250, feeder_scenarios=200,
                     scaling_buses=(250, 500, 1_000), scaling_bus_scenarios=100_000,
                     pandapower_calls=5, repeats=2, accuracy_scenarios=3, simbench_scenarios=500)
        small.update(overrides)
        return cls(**small)

    def n_feeders(self, n_bus: int) -> int:
        """Feeders of a synthetic case with ``n_bus`` buses."""
        return max(1, n_bus // self.buses_per_feeder)

    def scaling_scenarios(self, n_bus: int) -> int:
        """Scenarios of a scaling point."""
        return max(20, self.scaling_bus_scenarios // n_bus)


# --- scenarios -----------------------------------------------------------------------------
def time_ours(pf: BatchPowerFlow, sc: Scenarios, repeats: int = 5) -> tuple[dict, np.ndarray]:
    """Time the batch engine on all scenarios.

    A warm-up run on a few scenarios compiles the numba kernels and builds the
    radial structure; then ``pf.run(P, Q)`` plus ``res.vm_pu`` is timed
    ``repeats`` times and the best time is kept.

    Returns
    -------
    figures : dict
        ``us_per_pf``, ``pf_per_s``, ``mean_iterations``, ``max_iterations``,
        ``converged_share``, ``n_scenarios``, ``repeats``.
    vm_pu : ndarray, shape (n_scenarios, n_bus)
        Voltage magnitudes of the last run (NaN where not supplied).
    """
    pf.run(sc.p_mw[:8], sc.q_mvar[:8]).vm_pu  # noqa: B018 - warm-up / compilation
    best, res, vm = np.inf, None, None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        res = pf.run(sc.p_mw, sc.q_mvar)
        vm = res.vm_pu
        best = min(best, time.perf_counter() - t0)
    n = sc.n_scenarios
    figures = {"us_per_pf": best / n * 1e6, "pf_per_s": n / best,
               "mean_iterations": float(np.mean(res.iterations)),
               "max_iterations": int(np.max(res.iterations)),
               "converged_share": float(np.mean(res.converged)),
               "n_scenarios": n, "repeats": int(max(1, repeats))}
    return figures, vm


# --- pandapower ----------------------------------------------------------------------------
def time_pandapower(net, pf: BatchPowerFlow, sc: Scenarios, n_calls: int) -> tuple[dict, np.ndarray]:
    """Time ``pandapower.runpp`` (default options) with the loads changed every call.

    Every call sets ``p_mw``/``q_mvar`` of the loads, static generators and
    storage units to their base value times the scenario's factor at their bus,
    then runs ``pp.runpp(net)`` on a copy of ``net``. One untimed warm-up call
    precedes the timed ones.

    Returns
    -------
    figures : dict
        ``ms_per_call`` (mean), ``ms_per_call_median``, ``n_calls``.
    vm_pu : ndarray, shape (n_calls, n_bus)
        pandapower's voltage magnitudes of the timed calls (scenarios
        ``0..n_calls-1``), columns in ``pf.bus_labels`` order.
    """
    import pandapower as pp

    net = copy.deepcopy(net)
    elements = _demand_elements(net, pf)
    n_calls = min(n_calls, sc.n_scenarios)
    _set_scenario(net, elements, sc.factors[0])
    pp.runpp(net)  # warm-up
    times, vm = [], np.full((n_calls, len(pf.bus_labels)), np.nan)
    for k in range(n_calls):
        t0 = time.perf_counter()
        _set_scenario(net, elements, sc.factors[k])
        pp.runpp(net)
        times.append(time.perf_counter() - t0)
        vm[k] = net.res_bus.vm_pu.reindex(pf.bus_labels).to_numpy(float)
    figures = {"ms_per_call": float(np.mean(times)) * 1e3,
               "ms_per_call_median": float(np.median(times)) * 1e3, "n_calls": n_calls}
    return figures, vm


def _demand_elements(net, pf: BatchPowerFlow) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """Per demand table: bus position of every element and its base p_mw, q_mvar."""
    out = []
    for table in ("load", "sgen", "storage"):
        df = net[table]
        if len(df):
            out.append((table, pf.branches.bus_position(df.bus.to_numpy()),
                        df.p_mw.to_numpy(float).copy(), df.q_mvar.to_numpy(float).copy()))
    return out


def _set_scenario(net, elements, factors: np.ndarray) -> None:
    for table, pos, p0, q0 in elements:
        net[table]["p_mw"] = p0 * factors[pos]
        net[table]["q_mvar"] = q0 * factors[pos]


# --- power-grid-model ----------------------------------------------------------------------
def max_voltage_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Largest ``|a - b|`` over the buses where both are finite and non-zero.

    Unsupplied buses are NaN in pandapower and our engine and 0 in
    power-grid-model; they are left out.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    return float(np.max(np.abs(a - b)[ok])) if ok.any() else float("nan")


# --- one case ------------------------------------------------------------------------------
def bench_case(name: str, net, n_scenarios: int, config: BenchConfig,
               progress: Callable[[str], None] | None = None,
               peers: Sequence[str] = ("pandapower", "pgm")) -> dict:
    """Measure every engine on one net.

    Parameters
    ----------
    name : str
        Label of the case in the report.
    net : pandapowerNet
    n_scenarios : int
    config : BenchConfig
    progress : callable, optional
        Called with one line per measurement.
    peers : sequence of str
        Peers to time besides our engine: ``"pandapower"``, ``"pgm"``
        (power-grid-model, every method of :data:`PGM_METHODS`) and
        ``"pgm_nr"`` (Newton-Raphson only).

    Returns
    -------
    dict
        ``name``, ``n_bus``, ``n_scenarios``, ``ours``, optionally
        ``pandapower`` and ``pgm_<method>`` (timing figures), ``accuracy``
        (max |dV| in p.u. per pair of engines), ``ratios`` (peer time / our
        time) and ``notes`` (peers skipped or failed, with the reason).
    """
    say = progress or (lambda _msg: None)
    pf = BatchPowerFlow(net)
    sc = random_scenarios(pf, n_scenarios, config.seed, config.scale_range)
    out: dict[str, Any] = {"name": name, "n_bus": int(len(pf.bus_labels)),
                           "n_scenarios": int(n_scenarios), "accuracy": {}, "ratios": {}, "notes": []}
    out["ours"], vm_ours = time_ours(pf, sc, config.repeats)
    say(f"{name}: ours {out['ours']['us_per_pf']:.3f} us/PF, "
        f"{out['ours']['mean_iterations']:.2f} sweeps on average")

    vm_ref = None
    if "pandapower" in peers and config.pandapower_calls > 0:
        out["pandapower"], vm_ref = time_pandapower(net, pf, sc, config.pandapower_calls)
        say(f"{name}: pandapower runpp {out['pandapower']['ms_per_call']:.2f} ms/call")
    if vm_ref is not None:
        k = min(config.accuracy_scenarios, vm_ref.shape[0])
        out["accuracy"]["ours_vs_pandapower"] = max_voltage_difference(vm_ours[:k], vm_ref[:k])
        out["ratios"]["pandapower/ours"] = (out["pandapower"]["ms_per_call"] * 1e3
                                            / out["ours"]["us_per_pf"])

    methods = PGM_METHODS if "pgm" in peers else ("newton_raphson",) if "pgm_nr" in peers else ()
    if methods and config.pgm:
        _bench_pgm(name, net, pf, sc, methods, config, out, vm_ours, vm_ref, say)
    return out


def _bench_pgm(name: str, net, pf: BatchPowerFlow, sc: Scenarios, methods: Sequence[str],
               config: BenchConfig, out: dict, vm_ours: np.ndarray, vm_ref: np.ndarray | None,
               say: Callable[[str], None]) -> None:
    """Add the power-grid-model figures of every method to ``out``."""
    if not pgm_available():
        out["notes"].append("power-grid-model not installed (pip install fdnmoo[bench])")
        return
    try:
        pgm = pgm_network(net, pf)
    except NotImplementedError as exc:
        out["notes"].append(f"power-grid-model skipped: {exc}")
        return
    k = config.accuracy_scenarios if vm_ref is None else min(config.accuracy_scenarios, vm_ref.shape[0])
    for method in methods:
        key = f"pgm_{method}"
        try:
            out[key], vm = time_pgm(pgm, sc, method, repeats=min(config.repeats, 3))
        except Exception as exc:  # a PGM calculation error (e.g. not converged) is a result
            out["notes"].append(f"power-grid-model {method} failed: {type(exc).__name__}: {exc}")
            continue
        say(f"{name}: power-grid-model {method} {out[key]['us_per_pf']:.3f} us/PF")
        out["ratios"][f"{key}/ours"] = out[key]["us_per_pf"] / out["ours"]["us_per_pf"]
        out["accuracy"][f"ours_vs_{key}_all_scenarios"] = max_voltage_difference(vm_ours, vm)
        if vm_ref is not None:
            out["accuracy"][f"{key}_vs_pandapower"] = max_voltage_difference(vm[:k], vm_ref[:k])


# --- scaling series ------------------------------------------------------------------------
def scaling_series(config: BenchConfig, make_net: Callable[[int], Any],
                   progress: Callable[[str], None] | None = None) -> dict:
    """Our engine (and power-grid-model NR) over synthetic feeders of growing size.

    Parameters
    ----------
    config : BenchConfig
        ``scaling_buses`` gives the sizes, ``scaling_scenarios(n)`` the batch.
    make_net : callable
        ``make_net(n_bus)`` returns the pandapower net of that size.
    progress : callable, optional

    Returns
    -------
    dict
        ``points``: one dict per size with ``n_bus``, ``n_scenarios``,
        ``us_per_pf``, ``ns_per_pf_per_bus``, ``ns_per_sweep_per_bus``,
        ``mean_iterations`` (and ``pgm_us_per_pf``, ``pgm/ours``,
        ``max_dv_vs_pgm``); ``exponent``: slope of
        log(time per PF) against log(n_bus) (1 = linear growth);
        ``per_bus_growth``: time per PF per bus at the largest size over the
        smallest.
    """
    peers = ("pgm_nr",) if config.scaling_peers else ()
    points = []
    for n_bus in config.scaling_buses:
        res = bench_case(f"synthetic_{n_bus}", make_net(n_bus), config.scaling_scenarios(n_bus),
                         config, progress=progress, peers=peers)
        point = {"n_bus": res["n_bus"], "n_scenarios": res["n_scenarios"],
                 "us_per_pf": res["ours"]["us_per_pf"],
                 "ns_per_pf_per_bus": res["ours"]["us_per_pf"] / res["n_bus"] * 1e3,
                 "ns_per_sweep_per_bus": (res["ours"]["us_per_pf"] / res["n_bus"] * 1e3
                                          / res["ours"]["mean_iterations"]),
                 "mean_iterations": res["ours"]["mean_iterations"],
                 "converged_share": res["ours"]["converged_share"]}
        if "pgm_newton_raphson" in res:
            point["pgm_us_per_pf"] = res["pgm_newton_raphson"]["us_per_pf"]
            point["pgm/ours"] = res["ratios"]["pgm_newton_raphson/ours"]
            point["max_dv_vs_pgm"] = res["accuracy"]["ours_vs_pgm_newton_raphson_all_scenarios"]
        points.append(point)
    return {"points": points, **_growth(points)}


def _growth(points: list[dict]) -> dict:
    if len(points) < 2:
        return {"exponent": float("nan"), "per_bus_growth": float("nan")}
    n = np.log([p["n_bus"] for p in points])
    t = np.log([p["us_per_pf"] for p in points])
    exponent = float(np.polyfit(n, t, 1)[0])
    return {"exponent": exponent,
            "per_bus_growth": points[-1]["ns_per_pf_per_bus"] / points[0]["ns_per_pf_per_bus"]}


# --- targets -------------------------------------------------------------------------------
TARGETS = (
    # (label, case key, figure path, comparison, threshold)
    ("ieee33: our time per power flow (us)", "ieee33", ("ours", "us_per_pf"), "<=", 1.0),
    ("ieee33: pandapower runpp / ours", "ieee33", ("ratios", "pandapower/ours"), ">=", 1e4),
    ("ieee33: power-grid-model NR / ours", "ieee33", ("ratios", "pgm_newton_raphson/ours"), ">=", 5.0),
    ("feeder: power-grid-model NR / ours", "feeder", ("ratios", "pgm_newton_raphson/ours"), ">=", 5.0),
    ("scaling: exponent of time vs buses", "scaling", ("exponent",), "<=", 1.15),
)
"""The issue's targets; linear growth is read as a log-log slope of at most 1.15."""


def evaluate_targets(report: dict) -> list[dict]:
    """Each target with the measured value and whether it is met (None: not measured)."""
    rows = []
    for label, key, path, op, threshold in TARGETS:
        value: Any = report.get(key)
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        met = None
        if value is not None and np.isfinite(value):
            met = bool(value <= threshold if op == "<=" else value >= threshold)
        rows.append({"target": label, "value": value, "op": op, "threshold": threshold, "met": met})
    return rows


# --- whole run -----------------------------------------------------------------------------
def run_benchmark(config: BenchConfig, progress: Callable[[str], None] | None = None,
                  load_net: Callable[..., Any] | None = None) -> dict:
    """Run every measurement of ``config``.

    Parameters
    ----------
    config : BenchConfig
    progress : callable, optional
        Receives one line per measurement (``main`` prints them on stderr).
    load_net : callable, optional
        ``load_net(name, **params)`` returning a pandapower net; default:
        ``fdnmoo.cases.load_case(name, **params).net``.

    Returns
    -------
    dict
        ``meta`` (versions, machine, configuration), ``ieee33``, ``feeder``
        (see :func:`bench_case`), ``scaling`` (see :func:`scaling_series`)
        and ``targets`` (see :func:`evaluate_targets`).
    """
    load_net = load_net or _load_case_net
    numba_threads = _pin_numba_threads()

    def synthetic(n_bus: int):
        return load_net("synthetic", n_bus=n_bus, n_feeders=config.n_feeders(n_bus), seed=config.seed)

    report: dict[str, Any] = {"meta": _meta(config, numba_threads)}
    report["ieee33"] = bench_case("ieee33", load_net("ieee33"), config.ieee33_scenarios, config, progress)
    report["feeder"] = bench_case(f"synthetic_{config.feeder_buses}", synthetic(config.feeder_buses),
                                  config.feeder_scenarios, config, progress)
    if config.simbench_grid:
        report["simbench"] = _bench_simbench(config, progress)
    report["scaling"] = scaling_series(config, synthetic, progress)
    report["targets"] = evaluate_targets(report)
    return report


def _bench_simbench(config: BenchConfig, progress: Callable[[str], None] | None) -> dict:
    """:func:`bench_case` on a SimBench grid exactly as the ``simbench`` package ships it."""
    try:
        import simbench
    except ImportError:
        return {"name": config.simbench_grid, "skipped": "simbench is not installed"}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandapower's deprecation notes on SimBench's data
        net = simbench.get_simbench_net(config.simbench_grid)
    return bench_case(f"simbench {config.simbench_grid}", net, config.simbench_scenarios,
                      config, progress)


def _load_case_net(name: str, **params: Any):
    from ..cases import load_case

    return load_case(name, **params).net


def _pin_numba_threads() -> int | None:
    """One numba thread for a fair single-core comparison; returns the count set."""
    try:
        import numba

        numba.set_num_threads(1)
        return int(numba.get_num_threads())
    except (ImportError, AttributeError, ValueError):
        return None


def _meta(config: BenchConfig, numba_threads: int | None) -> dict:
    versions = {}
    for dist in ("fdnmoo", "numpy", "numba", "pandapower", "power-grid-model"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {"versions": versions, "python": platform.python_version(),
            "machine": platform.machine(), "cpu": _cpu_name(),
            "numba_threads": numba_threads, "pgm_threading": "sequential (threading=-1)",
            "config": asdict(config), "time": time.strftime("%Y-%m-%d %H:%M:%S %z")}


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# --- report --------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python experiments/bench/powerflow.py",
                                description="Benchmark the batch power flow against pandapower "
                                            "and power-grid-model.")
    p.add_argument("--quick", action="store_true", help="small sizes (a few seconds)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--seed", type=int, help="scenario and synthetic-case seed (default 0)")
    p.add_argument("--ieee33-scenarios", type=int)
    p.add_argument("--feeder-buses", type=int)
    p.add_argument("--feeder-scenarios", type=int)
    p.add_argument("--scaling-buses", type=lambda s: tuple(int(x) for x in s.split(",")),
                   help="comma-separated sizes, e.g. 1000,2000,5000,10000")
    p.add_argument("--simbench-grid", help="SimBench code of the real grid ('' to skip; "
                   "default 1-MV-semiurb--0-sw)")
    p.add_argument("--simbench-scenarios", type=int)
    p.add_argument("--pandapower-calls", type=int)
    p.add_argument("--repeats", type=int)
    p.add_argument("--no-pgm", dest="pgm", action="store_false", default=None,
                   help="skip power-grid-model")
    p.add_argument("--no-scaling-peers", dest="scaling_peers", action="store_false", default=None,
                   help="time only our engine on the scaling series")
    return p


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    """The :class:`BenchConfig` of parsed command-line arguments."""
    names = ("seed", "ieee33_scenarios", "feeder_buses", "feeder_scenarios", "scaling_buses",
             "pandapower_calls", "repeats", "pgm", "scaling_peers", "simbench_grid",
             "simbench_scenarios")
    overrides = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
    return BenchConfig.quick(**overrides) if args.quick else BenchConfig(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the report on stdout (progress on stderr).

    Returns
    -------
    int
        Exit status (0).
    """
    args = _parser().parse_args(argv)
    config = config_from_args(args)

    def progress(msg: str) -> None:
        print(f"[bench] {msg}", file=sys.stderr, flush=True)

    report = run_benchmark(config, progress)
    print(format_report(report))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, default=_json_default)
        progress(f"figures written to {args.json}")
    return 0


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


if __name__ == "__main__":
    raise SystemExit(main())
