"""Case files cite the papers themselves, not the project's internal seed numbers (issue 7)."""

import json

import pytest

from fdnmoo.cases.registry import DATA_DIR

FILES = sorted(DATA_DIR.glob("*.json"))


def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_no_internal_seed_numbers(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.pop("net")  # pandapower's tables: data, no prose
    assert [s for s in _strings(doc) if "seed 00" in s or "seeds 00" in s] == []


@pytest.mark.parametrize("name", ["ieee33", "ieee69", "tpc84"])
def test_feeders_cite_title_authors_journal_and_doi(name):
    citation = json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))["citation"]
    # the joint-planning (AA-NSGA-II) paper and the Nature Communications FDN paper
    assert "S. Wang, Y. Dong, Q. Zhao and X. Zhang, 'Bi-level multi-objective joint planning" in citation
    assert "doi:10.35833/MPCE.2020.000930" in citation
    assert "R. Wang, H. Ji, P. Li, H. Yu et al., 'Multi-resource dynamic coordinated" in citation
    assert "Sustainability 17(12), 5324, 2025, doi:10.3390/su17125324" in citation
