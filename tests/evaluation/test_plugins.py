"""User plug-ins (objectives, constraints, gene blocks) on the serial, joblib and dask backends.

The plug-in module is written to a temporary folder, outside the fdnmoo tree. Every
backend must give exactly the serial result, which the main process computes itself.
Registry names carry a tag per test because joblib's worker pool outlives a test: a
second module registering the same name in the same worker would be refused.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from fdnmoo import plugins as plugin_module
from fdnmoo.cli.app import main
from fdnmoo.evaluation import Evaluator, clear_cache
from fdnmoo.experiment import SpecError, load_spec
from fdnmoo.objectives import OBJECTIVES
from fdnmoo.parameters import ParameterError
from fdnmoo.plugins import import_plugin, module_origin
from fdnmoo.problems.planning import ProblemConfig

README = Path(__file__).resolve().parents[2] / "README.md"


def plugin_source(tag: str) -> str:
    """A user module with one objective, one constraint (with a limit) and one gene block."""
    return textwrap.dedent(f'''
        import numpy as np
        from fdnmoo.objectives import constraint, objective
        from fdnmoo.problems.encodings import DerBlock, register_block


        @objective("{tag}_sag", unit="p.u.", sense="min")
        def sag(ev):
            """Largest 1 - V over stages, slots, samples and buses."""
            return float(np.nanmax(1.0 - ev.ops.vmin_pu))


        @constraint("{tag}_pv_cap", unit="MW")
        def pv_cap(ev, max_mw: float = 1.0):
            """PV installed by the last stage above max_mw."""
            return float(ev.plan.der["pv"][-1].sum() - max_mw)


        @register_block("{tag}_even_pv")
        class EvenPv(DerBlock):
            """PV sizes in even levels only."""

            def __init__(self, levels: int = 4):
                super().__init__("pv", levels=levels)

            def repair(self, X, rng, context):
                Y = super().repair(X, rng, context)
                return Y - Y % 2
    ''')


def composed(tag: str, **kwargs) -> ProblemConfig:
    return ProblemConfig(case="ieee33", n_stages=2, n_days=1,
                         blocks=((f"{tag}_even_pv", {"levels": 4}),),
                         objectives=("loss_kw", f"{tag}_sag"),
                         constraints=((f"{tag}_pv_cap", {"max_mw": 2.5}),), **kwargs)


def check_backend(config: ProblemConfig, backend: str) -> None:
    """Backend result == serial result in this process; the plug-in entries did the work."""
    problem = config.build()
    X = problem.genome.sample(7, np.random.default_rng(4))
    F0, G0 = problem.evaluate_genomes(X)
    assert all(int(v) % 2 == 0 for v in X.ravel())  # the plug-in block's repair ran
    pv = np.array([problem.decode(x).der["pv"][-1].sum() for x in X])
    np.testing.assert_allclose(G0[:, 1], pv - 2.5)  # the plug-in constraint, with its limit
    assert np.all(F0[:, 1] > 0.05)  # ieee33 sags by ~9 % at the peak slot
    clear_cache()  # the serial backend rebuilds from the config too
    with Evaluator(backend, n_workers=2) as evaluator:
        F, G = evaluator.evaluate(config, X)
    np.testing.assert_array_equal(F, F0)
    np.testing.assert_array_equal(G, G0)


def test_file_plugin_on_serial(tmp_path, registries):
    path = tmp_path / "user_terms.py"
    path.write_text(plugin_source("ser"))
    config = composed("ser", plugins=(str(path),))
    assert config.modules == (("", str(path.resolve())),)
    check_backend(config, "serial")


def test_imported_module_on_joblib_without_naming_it(tmp_path, registries, monkeypatch):
    (tmp_path / "user_terms_jl.py").write_text(plugin_source("jl"))
    monkeypatch.syspath_prepend(str(tmp_path))
    import_plugin("user_terms_jl")
    config = composed("jl")  # no plugins=: the entries' module is recorded by itself
    file = str((tmp_path / "user_terms_jl.py").resolve())
    assert config.plugins == () and config.modules == (("user_terms_jl", file),)
    check_backend(config, "joblib")


def test_file_plugin_on_a_dask_local_cluster(tmp_path, registries):
    pytest.importorskip("distributed")
    path = tmp_path / "user_terms.py"
    path.write_text(plugin_source("dk"))
    check_backend(composed("dk", plugins=(str(path),)), "dask")


def test_readme_plugin_example_on_joblib(tmp_path, registries):
    blocks = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
              if '@objective("worst_voltage_drop"' in b]
    assert len(blocks) == 1, "README lost its plug-in example"
    path = tmp_path / "my_objectives.py"
    path.write_text(blocks[0])
    config = ProblemConfig(case="ieee33", preset="reconfiguration",
                           objectives=("loss_kw", "worst_voltage_drop"), plugins=(str(path),),
                           horizon=(("load_growth_per_year", 0.0),))
    problem = config.build()
    X = problem.genome.sample(6, np.random.default_rng(0))
    F0, G0 = problem.evaluate_genomes(X)
    # the base topology's deepest sag: 1 - 0.9131 p.u. (bus 18, Baran & Wu); others differ
    grid = problem.grid  # reconfiguration genes: one open/closed state per switchable line
    x_base = np.isin(grid.switchable_lines, grid.base_closed_lines).astype(int)
    base = problem.evaluate_genomes(x_base[None, :])[0]
    assert base[0, 1] == pytest.approx(1 - 0.9131, abs=2e-4)
    with Evaluator("joblib", n_workers=2) as evaluator:
        F, G = evaluator.evaluate(config, X)
    np.testing.assert_array_equal(F, F0)
    np.testing.assert_array_equal(G, G0)


SPEC = """
case: ieee33
plugins: [terms/user_terms.py]
problem:
  blocks: [{{{tag}_even_pv: {{levels: 4}}}}]
  stages: 1
  days: 1
  objectives: [loss_kw, {tag}_sag]
  constraints: [{{{tag}_pv_cap: {{max_mw: 2.5}}}}]
algorithm: {{name: nsga2, pop_size: 6, n_gen: 2}}
seed: 2
evaluation: {{backend: {backend}, workers: 2}}
"""


@pytest.mark.parametrize("backend", ["serial", "joblib", "dask"])
def test_fdnmoo_run_with_plugins_on_every_backend(tmp_path, registries, backend, capsys):
    if backend == "dask":
        pytest.importorskip("distributed")
    tag = f"cli{backend}"
    (tmp_path / "terms").mkdir()
    (tmp_path / "terms" / "user_terms.py").write_text(plugin_source(tag))
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(SPEC.format(tag=tag, backend=backend))
    out = tmp_path / "out"
    assert main(["run", str(spec_path), "--out", str(out), "--no-progress"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["evaluation"]["backend"] == backend
    plugin = str((tmp_path / "terms" / "user_terms.py").resolve())
    assert run["composition"]["plugins"] == [plugin]
    assert run["composition"]["constraints"][1] == {f"{tag}_pv_cap": {"max_mw": 2.5}}
    pareto = (out / "pareto.csv").read_text().splitlines()
    assert f"{tag}_sag" in pareto[0] and len(pareto) > 1


def test_main_script_origin_is_its_file_and_its_guard_stays_shut(tmp_path, registries,
                                                                  monkeypatch):
    """Fast variant of the next test: what a worker does with a script run as __main__."""
    script = tmp_path / "study_fast.py"
    script.write_text(plugin_source("fast") + "\nif __name__ == '__main__':\n"
                      "    raise SystemExit('the study itself must not run in a worker')\n")
    fake_main = type(sys)("__main__")
    fake_main.__file__ = str(script)
    with monkeypatch.context() as patch:  # the process that runs the script records...
        patch.setitem(sys.modules, "__main__", fake_main)
        origin = module_origin("__main__")
        assert plugin_module.import_origin(origin) is fake_main  # ...and never re-runs it
    assert origin == ("", str(script.resolve()))
    module = plugin_module.import_origin(origin)  # ...a worker imports the file
    assert "fast_sag" in OBJECTIVES and OBJECTIVES["fast_sag"].module == module.__name__
    # a second import (another config, the same worker) finds it and does not re-register
    assert plugin_module.import_origin(("", str(script))) is module


@pytest.mark.slow
def test_a_script_registering_in_main_works_on_joblib(tmp_path):
    """Entries defined in a script run as __main__ reach the workers by the script's path."""
    script = tmp_path / "study.py"
    script.write_text(plugin_source("main") + textwrap.dedent('''
        import sys
        from fdnmoo.evaluation import Evaluator
        from fdnmoo.problems.planning import ProblemConfig

        if __name__ == "__main__":
            config = ProblemConfig(case="ieee33", preset="reconfiguration",
                                   objectives=("loss_kw", "main_sag"))
            problem = config.build()
            X = problem.genome.sample(4, np.random.default_rng(1))
            F0, _ = problem.evaluate_genomes(X)
            with Evaluator("joblib", n_workers=2) as ev:
                F, _ = ev.evaluate(config, X)
            print(config.modules, bool(np.array_equal(F, F0)))
    '''))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"(('', '{script.resolve()}'),) True"


def test_plugin_errors_name_file_key_and_value(tmp_path, registries):
    (tmp_path / "broken.py").write_text("raise RuntimeError('half-written plug-in')\n")
    for value, message in [("no_such_module_xyz", "No module named 'no_such_module_xyz'"),
                           ("missing.py", "no such file"),
                           ("broken.py", "RuntimeError: half-written plug-in")]:
        path = tmp_path / "spec.yaml"
        path.write_text(f"case: ieee33\nplugins: [{value}]\n")
        with pytest.raises(SpecError) as err:
            load_spec(path)
        assert str(err.value).startswith(f"{path}: plugins: cannot import {value!r}")
        assert message in str(err.value)
    path.write_text("case: ieee33\nplugins: my_module\n")
    with pytest.raises(SpecError, match="plugins: expected a list"):
        load_spec(path)
    with pytest.raises(ParameterError, match="plugins: cannot import plug-in 'nowhere_xyz'"):
        ProblemConfig(case="ieee33", preset="joint", plugins=("nowhere_xyz",))


def test_importing_a_plugin_twice_does_not_register_twice(tmp_path, registries, monkeypatch):
    path = tmp_path / "user_terms_twice.py"
    path.write_text(plugin_source("twice"))
    spec = tmp_path / "spec.yaml"
    spec.write_text("case: ieee33\nplugins: [user_terms_twice.py, ./user_terms_twice.py]\n"
                    "problem: {preset: reconfiguration, objectives: [twice_sag]}\n")
    first = load_spec(spec)
    assert load_spec(spec).plugins == first.plugins == (str(path.resolve()),) * 2
    module = import_plugin(str(path))
    assert module_origin(module.__name__) == ("", str(path.resolve()))
    # the same file by module name: already imported, not executed again
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_plugin("user_terms_twice") is module
    assert OBJECTIVES["twice_sag"].module == module.__name__
