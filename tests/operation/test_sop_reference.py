"""SOP dispatch reproduces the set-points recorded before it was vectorised.

``data/sop_reference.npz`` holds, for seeded populations of the presets with
SOP genes, the output of ``dispatch_sop`` per (case, stage, plan): terminal
set-points, converter losses, whether the SOP beat idle, and the power flow
of the chosen operation (losses, extreme voltages). It was written by this
module (``python -m tests.operation.test_sop_reference``) at commit 135a5ce,
the per-plan implementation (one ``SopModel`` and one screening call per plan).

The batched implementation reproduces these arrays bit for bit on the machine
that recorded them (every product is the same BLAS/LAPACK call with the same
shapes, sums follow numpy's order: :mod:`fdnmoo.operation.sop_kernels`). The
test allows for another BLAS build or CPU, which changes the last digits of
the old and the new code alike; two places amplify them and set the
tolerances:

* the reactive room next to a P set-point at the terminal's limit is
  ``sqrt(room^2 - P^2)``, mathematically 0, numerically 0 or ``sqrt(ulp) * room``
  (~3e-8 Mvar); so Q is compared to 1e-7 Mvar absolute and the power-flow
  losses it moves to 1e-8 relative;
* two screening candidates can be a near tie (the loss-optimal step ``f`` a
  hair below 1 against the full transfer), decided by rounding; their
  set-points differ by ``1 - f``, below ~1e-9 relative.

The populations go through the real path: ``ProblemConfig(...).build()``,
``GenomeSampling``, ``Genome.decode``, the scenario batch and ``net_demand``,
and every stage's plans that share a topology are dispatched in one call.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from fdnmoo.metrics.reductions import line_limits_ka
from fdnmoo.operation import FeederTree, OperatingLimits, SopTerminals, dispatch_sop
from fdnmoo.operation.injections import DerLayout, net_demand
from fdnmoo.operators import GenomeSampling
from fdnmoo.problems.planning import ProblemConfig

DATA = Path(__file__).parent / "data" / "sop_reference.npz"

#: (rtol, atol) where the module docstring explains why not (1e-9, 1e-12)
TOLERANCE = {"q_mvar": (1e-9, 1e-7), "loss_mw": (1e-8, 1e-12)}

#: name -> (ProblemConfig keywords, population size, sampling seed); small batches (1 day, 2 samples)
CASES = {
    "ieee33-joint": (dict(case="ieee33", preset="joint", n_stages=3, n_days=1, n_samples=2, seed=0), 12, 1),
    "ieee33-sop_planning": (dict(case="ieee33", preset="sop_planning", n_stages=3, n_days=1, n_samples=2,
                                 seed=3), 10, 2),
    "tpc84-joint": (dict(case="tpc84", preset="joint", n_stages=2, n_days=1, n_samples=2, seed=5), 8, 3),
}


def dispatch_population(name: str) -> dict[str, np.ndarray]:
    """``dispatch_sop`` outputs of the population ``CASES[name]``, keyed ``name/stage/plan/field``."""
    kwargs, n, seed = CASES[name]
    problem = ProblemConfig(**kwargs).build()
    X = GenomeSampling()._do(problem, n, random_state=np.random.default_rng(seed))
    plans = [problem.decode(x) for x in X]
    grid, batch = problem.grid, problem.batch
    unc = grid.case.uncertainty
    limits = OperatingLimits(unc.v_min_pu, unc.v_max_pu, line_limits_ka(grid.net))
    layout = DerLayout.of(grid, batch.bus_labels)
    out = {}
    for stage in range(1, batch.n_stages + 1):
        groups: dict[bytes, list[int]] = {}
        for i, plan in enumerate(plans):
            if len(plan.sop_terminals(stage)):
                groups.setdefault(plan.topology_key(stage), []).append(i)
        for members in groups.values():
            first = plans[members[0]]
            eng = problem.engine.reconfigure(closed_lines=first.closed_lines[stage - 1],
                                             closed_trafos=first.closed_trafos[stage - 1])
            tree = FeederTree.from_engine(eng)
            group = [plans[i] for i in members]
            nd = net_demand(grid, group, batch, stage, tree, layout)
            shape = (len(group), -1, nd.p_mw.shape[-1])
            terms = [SopTerminals.of_plan(plan, stage, batch.bus_labels) for plan in group]
            d = dispatch_sop(eng, tree, terms, nd.p_mw.reshape(shape), nd.q_mvar.reshape(shape),
                             nd.demand_mw.reshape(shape), limits, eta=unc.sop_loss_coefficient)
            rows = d.point.loss_mw.size // len(group)
            for k, i in enumerate(members):
                mine = slice(k * rows, (k + 1) * rows)
                n_t = terms[k].bus.size
                vm = d.point.vm_pu[mine]
                fields = {"p_mw": np.asarray(d.p_mw[k])[:, :n_t], "q_mvar": np.asarray(d.q_mvar[k])[:, :n_t],
                          "converter_loss_mw": d.converter_loss_mw[mine], "active": d.active[mine],
                          "loss_mw": d.point.loss_mw[mine], "vmin_pu": np.fmin.reduce(vm, axis=1),
                          "vmax_pu": np.fmax.reduce(vm, axis=1)}
                out.update({f"{name}/{stage}/{i}/{f}": v for f, v in fields.items()})
    return out


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(DATA) as data:
        return dict(data)


@pytest.mark.parametrize("name", CASES)
def test_dispatch_reproduces_the_recorded_setpoints(name, reference):
    got = dispatch_population(name)
    expected = {k: v for k, v in reference.items() if k.startswith(name + "/")}
    assert sorted(got) == sorted(expected)
    assert sum(expected[k].any() for k in expected if k.endswith("/active")) >= 2  # some SOPs dispatch
    for key, want in expected.items():
        field = key.rsplit("/", 1)[1]
        if want.dtype == bool:
            np.testing.assert_array_equal(got[key], want, err_msg=key)
        else:  # tolerances: module docstring; 1e-12 absolute for values that are zero up to rounding
            rtol, atol = TOLERANCE.get(field, (1e-9, 1e-12))
            np.testing.assert_allclose(got[key], want, rtol=rtol, atol=atol, err_msg=key)


if __name__ == "__main__":  # regenerate the reference (only from an implementation known to be right)
    arrays = {}
    for case in CASES:
        arrays.update(dispatch_population(case))
    np.savez_compressed(DATA, **arrays)
    print(f"wrote {len(arrays)} arrays to {DATA} ({DATA.stat().st_size / 1e3:.0f} kB)", file=sys.stderr)
