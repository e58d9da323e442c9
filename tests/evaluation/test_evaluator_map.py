"""``Evaluator.map``: one task per item, results in item order on every backend."""

import pytest

from fdnmoo.evaluation import Evaluator


def scaled(config, item):
    return config * item


@pytest.mark.parametrize("backend,n_workers", [("serial", 1), ("joblib", 1), ("joblib", 2)])
def test_map_keeps_item_order(backend, n_workers):
    with Evaluator(backend, n_workers=n_workers) as ev:
        assert ev.map(scaled, 3, range(7)) == [3 * i for i in range(7)]
        assert ev.map(scaled, 3, []) == []


def test_map_checks_the_evaluator_settings():
    with pytest.raises(ValueError, match="unknown evaluation backend 'threads'"):
        Evaluator("threads").map(scaled, 1, [1])
