"""SopBlock with up to four terminals per device, a device capacity limit and a minimum size.

Seed 000 (R. Wang et al., Nature Communications 15 (2024)) builds two-, three- and
four-terminal SOPs on tpc84 (Table 1: 7-64-72-83 in stage IV), limits one SOP to
10 MVA in 10 kVA modules ("Practical distribution network") and bounds the device
capacity, the sum over its terminals, by eq. (10e). The plans are checked by the
independent checks of ``encoding_checks`` (they do not reuse the repair code).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from encoding_checks import check_plan, grid_of
from fdnmoo.problems.encodings import SopBlock
from fdnmoo.problems.encodings.sop import DEFAULT_DEVICE_MAX_MVA
from fdnmoo.problems.genome import Genome


def paper_block(**kw) -> SopBlock:
    """Seed 000's SOP: up to 4 terminals, 10 kVA modules, 10 MVA per device."""
    params = dict(n_devices=2, max_terminals=4, module_mva=0.01, max_modules=1000)
    params.update(kw)
    return SopBlock(**params)


@pytest.fixture(scope="module")
def tpc84_genome():
    return Genome([paper_block(device_max_mva=4.0, device_min_mva=0.5)]).bind(grid_of("tpc84"), 4)


def test_default_limit_is_the_papers_10_mva():
    assert DEFAULT_DEVICE_MAX_MVA == 10.0
    assert SopBlock().device_max_mva == 10.0 and SopBlock().device_min_mva is None


def test_four_terminal_schemes_of_tpc84():
    # 26 tie-line ends over 11 feeders: 299 two-, 2,008 three- and 8,751 four-terminal schemes
    block = paper_block().bind(grid_of("tpc84"), 4)
    sizes = np.bincount([len(s) for s in block.schemes])
    assert sizes.tolist() == [0, 0, 299, 2008, 8751]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), wide=st.booleans())
def test_random_genomes_repair_to_devices_within_their_limits(tpc84_genome, seed, wide):
    genome = tpc84_genome
    gen = np.random.default_rng(seed)
    X = gen.integers(genome.xl, genome.xu + 1, size=(4, genome.n_var))
    if wide:  # four-terminal schemes everywhere: the limit has to refuse growth
        block = genome.block("sop")
        four = np.flatnonzero([len(s) == 4 for s in block.schemes]) + 1
        sd = block.n_stages * block.n_devices
        X[:, :sd] = gen.choice(four, size=(4, sd))
    R = genome.repair(X, gen)
    assert_array_equal(genome.repair(R, gen), R)  # idempotent
    for x in R:
        check_plan(genome.decode(x), genome)


def test_offspring_stay_within_the_device_limits(tpc84_genome):
    genome = tpc84_genome
    gen = np.random.default_rng(5)
    P = genome.sample(6, gen)
    C, D = genome.crossover(P[:3], P[3:], gen)
    for x in genome.repair(np.vstack([C, D, genome.mutate(C, gen, 0.5)]), gen):
        check_plan(genome.decode(x), genome)


def test_repair_cuts_the_largest_increase_and_keeps_earlier_modules():
    grid = grid_of("tpc84")
    block = paper_block(n_devices=1, module_mva=0.5, max_modules=10, device_max_mva=5.0).bind(grid, 2)
    nodes = list(grid.case.candidates["sop_nodes"].bus)
    pos = {b: nodes.index(b) for b in (7, 72, 83)}
    x = np.zeros(block.n_var, dtype=np.int64)
    x[0] = block._index[frozenset((pos[7], pos[72]))]  # stage 1: 7-72
    x[1] = block._index[frozenset(pos.values())]        # stage 2: 7-72-83
    mods = x[2:].reshape(2, -1)
    mods[:] = 1
    mods[0, [pos[7], pos[72]]] = [6, 3]  # 9 modules, 4.5 MVA: within the 10-module limit
    mods[1, [pos[7], pos[72], pos[83]]] = [6, 8, 7]  # 21 modules > 10
    y = block.repair(x[None], np.random.default_rng(0), {})[0]
    got = y[2:].reshape(2, -1)
    # stage 1 fits (9 modules of 0.5 MVA = 4.5 MVA); stage 2 keeps 7's 6 and 72's 3 modules
    # as floors, 83 needs one: 10 modules; the excess 11 comes off 72's and 83's increases
    assert got[0, [pos[7], pos[72]]].tolist() == [6, 3]
    assert got[1, [pos[7], pos[72], pos[83]]].tolist() == [6, 3, 1]
    assert y[1] == x[1]
    # growing to four terminals (from stage 1's two) would need 11 modules: the device keeps
    # its stage-1 scheme
    x4 = y.copy()
    pos64 = nodes.index(64)
    x4[1] = block._index[frozenset([*pos.values(), pos64])]
    z = block.repair(x4[None], np.random.default_rng(0), {})[0]
    assert z[1] == x[0]


def test_repair_raises_a_small_device_to_its_minimum_size():
    grid = grid_of("tpc84")
    block = paper_block(n_devices=1, module_mva=0.1, max_modules=10, device_min_mva=0.45).bind(grid, 1)
    nodes = list(grid.case.candidates["sop_nodes"].bus)
    x = np.zeros(block.n_var, dtype=np.int64)
    x[0] = block._index[frozenset((nodes.index(29), nodes.index(39)))]
    x[1:] = 1
    y = block.repair(x[None], np.random.default_rng(0), {})[0]
    parts = {}
    block.decode(y, parts)
    sop = parts["sop"]
    # 0.45 MVA rounds up to 5 modules of 0.1 MVA, added one at a time to the smaller terminal
    assert np.round(sop["capacity_mva"], 9).tolist() == [0.3, 0.2]  # buses 29, 39


@pytest.mark.parametrize("kw, match", [
    (dict(device_max_mva=0.015), "fewer than two modules"),
    (dict(device_min_mva=11.0), "device_min_mva=11.0 must be in"),
    (dict(device_min_mva=5.0, max_modules=100), "two-terminal device holds at most"),
])
def test_impossible_limits_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        paper_block(**kw).bind(grid_of("tpc84"), 2)
