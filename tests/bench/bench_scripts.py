"""Benchmark scripts under experiments/bench/ imported as modules (they are not a package)."""

import importlib.util
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "experiments" / "bench"


def load_script(name: str):
    """The module of ``experiments/bench/<name>.py``, imported without running it as a script."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
