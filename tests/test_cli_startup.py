"""The command line starts without the heavy libraries it does not need (issue 7).

Not a timing test: each command runs in a fresh interpreter and the test checks
which modules it imported (``sys.modules`` at exit), which is what start-up time
follows from. ``experiments/bench/startup.py`` measures the times.
"""

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("pandapower", "numba", "matplotlib", "dask", "pymoo", "scipy", "networkx")

_PROBE = """
import json, sys
from fdnmoo.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # --help exits
    code = exc.code
print(json.dumps(sorted({name.partition('.')[0] for name in sys.modules})), file=sys.stderr)
"""


def _run_probe(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True,
                          check=True, env=None if env is None else {**os.environ, **env})


def _imported(*argv: str) -> set[str]:
    return set(json.loads(_run_probe(*argv).stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("argv", [["--help"], ["pf", "--help"], ["run", "--help"],
                                  ["compare", "--help"]])
def test_help_imports_neither_pandas_nor_heavy_libraries(argv):
    imported = _imported(*argv)
    assert imported.isdisjoint(HEAVY + ("pandas", "numpy")), sorted(imported & set(HEAVY))


def test_cases_imports_no_heavy_library():
    imported = _imported("cases")
    assert "pandas" in imported  # the probe sees what the command imports
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


def test_pf_imports_what_it_needs_and_hits_the_numba_cache():
    """The probe would see a lazy import: pf does import pandapower and numba. Its kernels
    (``cache=True``) come from numba's on-disk cache: a second run compiles nothing."""
    _run_probe("pf", "ieee33", "--json")  # fills the cache if this checkout has none yet
    proc = _run_probe("pf", "ieee33", "--json", env={"NUMBA_DEBUG_CACHE": "1"})
    assert {"pandapower", "numba"} <= set(json.loads(proc.stderr.strip().splitlines()[-1]))
    log = proc.stdout + proc.stderr
    assert "[cache] data loaded" in log and "[cache] data saved" not in log
