"""Fixtures shared by the test folders."""

from __future__ import annotations

import sys

import pytest

from fdnmoo import plugins as plugin_module
from fdnmoo.evaluation import clear_cache
from fdnmoo.objectives import CONSTRAINTS, OBJECTIVES
from fdnmoo.operators import ALGORITHMS
from fdnmoo.problems.encodings import BLOCKS


@pytest.fixture
def registries(tmp_path):
    """Leave the main process's registries and modules as they were before the test
    (modules imported from ``tmp_path`` are forgotten, so a plug-in written there again
    by another test is imported afresh)."""
    before = (dict(OBJECTIVES._items), dict(CONSTRAINTS._items), dict(BLOCKS),
              dict(ALGORITHMS))
    modules = set(sys.modules)
    yield
    OBJECTIVES._items.clear(), OBJECTIVES._items.update(before[0])
    CONSTRAINTS._items.clear(), CONSTRAINTS._items.update(before[1])
    BLOCKS.clear(), BLOCKS.update(before[2])
    ALGORITHMS.clear(), ALGORITHMS.update(before[3])
    for name in set(sys.modules) - modules:
        file = getattr(sys.modules[name], "__file__", None) or ""
        if file.startswith(str(tmp_path)):
            del sys.modules[name]
            plugin_module._FILES.pop(name, None)
    clear_cache()
