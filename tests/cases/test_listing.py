"""``fdnmoo cases`` rows read from the files equal the rows of the loaded cases."""

import inspect

import pytest

from fdnmoo.cases import available_cases, load_case
from fdnmoo.cases.errors import CaseError
from fdnmoo.cases.listing import GENERATED_DEFAULTS, case_summaries, file_summary
from fdnmoo.cases.registry import DATA_DIR, _generators


def test_rows_equal_the_summaries_of_the_loaded_cases():
    rows = {row["name"]: row for row in case_summaries()}
    assert sorted(rows) == sorted(available_cases())
    for name in available_cases():
        expected = load_case(name).summary()
        if name in GENERATED_DEFAULTS:  # listed under the name load_case takes
            expected["name"] = name
        assert rows[name] == expected, name


def test_generated_defaults_are_the_generators_defaults():
    assert sorted(GENERATED_DEFAULTS) == sorted(_generators())
    for name, defaults in GENERATED_DEFAULTS.items():
        signature = inspect.signature(_generators()[name])
        assert defaults == {key: signature.parameters[key].default for key in defaults}


def test_bad_file_names_the_file_and_field(tmp_path):
    (tmp_path / "mine.json").write_text('{"name": "mine", "net": {"_object": {"bus": {}}}}')
    with pytest.raises(CaseError, match=r"mine\.json: net: not a pandapower JSON net.*'_object'"):
        file_summary(tmp_path / "mine.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(CaseError, match=r"broken\.json: json"):
        file_summary(tmp_path / "broken.json")


def test_listing_reads_only_the_shipped_files():
    assert {row["name"] for row in case_summaries()} - set(GENERATED_DEFAULTS) \
        == {p.stem for p in DATA_DIR.glob("*.json")}
