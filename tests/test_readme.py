"""The README's code blocks run: every Python block, every shell command (with a small budget),
every YAML spec.

A block the rules below do not know fails the test, so that a new example is run too. What
is not run, and why:

* ``pip install ...``: it would install into the environment the tests run in (the suite
  runs from that install);
* ``python3 -m pytest ...``: that is this suite;
* YAML fragments without ``case:`` (the plug-in example names the reader's own modules);
* ``text`` blocks: what a results file holds, not code.

Commands quoted in the prose are syntax (``fdnmoo run SPEC.yaml [--out DIR]``) or benchmarks
(``python experiments/bench/powerflow.py``), not examples, and are not run.
``fdnmoo run`` commands run in-process with their own arguments plus ``--set`` changes that
shrink them to one stage, one sample, four plans and one generation, into a temporary folder;
``fdnmoo study`` commands likewise with 20 samples at one level. ``fdnmoo filter DIR`` runs
on the temporary folder of the README's ``fdnmoo run ... --out DIR`` before it.
The values of the plug-in example are checked against pandapower's base case on joblib by
``tests/evaluation/test_plugins.py::test_readme_plugin_example_on_joblib``.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from fdnmoo.cli.app import main
from fdnmoo.experiment import load_spec

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: appended to every ``fdnmoo run`` of the README: later options win
TINY_RUN = ["--set", "problem.stages=1", "--set", "problem.samples=1",
            "--set", "algorithm.pop_size=4", "--set", "algorithm.n_gen=1",
            "--backend", "serial", "--workers", "1", "--no-progress"]
#: appended to every ``fdnmoo study`` of the README
TINY_STUDY = ["--set", "samples=20", "--set", "levels=[0.1]", "--no-progress"]
#: shell commands not run, with the reason
NOT_RUN = {"pip install": "installs into the environment the tests run in",
           "pytest": "the test suite itself"}
#: the module name the README's plug-in examples import the objective block as
PLUGIN_MODULE = "my_objectives"


def blocks(language: str) -> list[str]:
    """The README's fenced blocks of one language, in order."""
    return [m.group(2) for m in re.finditer(r"```(\w*)\n(.*?)```", README.read_text(), re.S)
            if m.group(1) == language]


def test_every_block_has_a_known_language():
    languages = {m.group(1) for m in re.finditer(r"```(\w*)\n", README.read_text())}
    # the layout tree is plain text, "text" a file's content (results shown, not run)
    assert languages <= {"python", "bash", "yaml", "text", ""}, languages


def shell_commands() -> list[str]:
    out = []
    for block in blocks("bash"):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                out.extend(c.strip() for c in line.split("&&"))
    return out


def test_shell_commands_run_with_a_small_budget(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # commands name paths of the source tree
    ran = []
    outs: dict[str, str] = {}  # --out of a README run -> its temporary folder
    for i, command in enumerate(shell_commands()):
        if any(marker in command for marker in NOT_RUN):
            continue
        argv = shlex.split(command)
        assert argv[0] == "fdnmoo", f"README command the test does not know how to run: " \
                                    f"{command!r} (run it here, or list it in NOT_RUN)"
        args = argv[1:]
        if args[:1] == ["run"]:
            out = tmp_path / f"run_{i}"
            if "--out" in args:
                outs[args[args.index("--out") + 1]] = str(out)
            args = args + TINY_RUN + ["--out", str(out)]
        elif args[:1] == ["filter"]:
            assert args[1] in outs, f"{command!r}: no README run writes {args[1]} before it"
            args = [args[0], outs[args[1]], *args[2:]]
        elif args[:1] == ["study"]:
            args = args + TINY_STUDY + ["--out", str(tmp_path / f"study_{i}")]
        elif args[:1] == ["compare"]:
            args = args + ["--out", str(tmp_path / f"compare_{i}"), "--no-progress"]
        elif args[:1] == ["partition"]:
            args = args + ["--out", str(tmp_path / f"partition_{i}")]
        assert main(args) == 0, command
        if args[:1] == ["run"]:
            run = json.loads((out / "run.json").read_text())
            assert run["status"] == "complete" and run["n_gen"] == 1
        ran.append(command)
    assert "fdnmoo run" in ran  # the main job of the README's first block
    capsys.readouterr()


def test_python_blocks_run(tmp_path, monkeypatch, registries):
    """Every Python block, in order, in one namespace; the objective block is the plug-in
    module the later blocks name, so it is written to a file and imported as one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    namespace: dict = {"__name__": "readme"}
    plugins = 0
    for i, block in enumerate(blocks("python")):
        if "@objective(" in block:
            (tmp_path / f"{PLUGIN_MODULE}.py").write_text(block)
            __import__(PLUGIN_MODULE)
            plugins += 1
            continue
        exec(compile(block, f"README.md python block {i}", "exec"), namespace)
    assert plugins == 1, "README lost its plug-in objective example"
    from fdnmoo.objectives import OBJECTIVES

    assert OBJECTIVES["worst_voltage_drop"].module == PLUGIN_MODULE


def test_yaml_specs_load_and_build(tmp_path):
    specs = [b for b in blocks("yaml") if "case" in (yaml.safe_load(b) or {})]
    fragments = [b for b in blocks("yaml") if "case" not in (yaml.safe_load(b) or {})]
    assert len(specs) >= 4 and all("plugins:" in b for b in fragments)
    for i, text in enumerate(specs):
        path = tmp_path / f"readme_{i}.yaml"
        path.write_text(text)
        spec = load_spec(path)
        problem = spec.build_problem()
        assert problem.n_var > 0 and problem.n_obj >= 1


@pytest.mark.parametrize("command", sorted(NOT_RUN))
def test_skipped_commands_are_in_the_readme(command):
    # a reason for a command the README no longer has is stale
    assert any(command in c for c in shell_commands()), command
