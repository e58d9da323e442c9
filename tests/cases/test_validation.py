"""Bad case files give a CaseError naming file, field and value."""

import json

import pandapower as pp
import pytest

from fdnmoo.cases import CaseError, load_case, read_case
from fdnmoo.cases.io import write_case
from fdnmoo.cases.registry import DATA_DIR


@pytest.fixture
def doc():
    return json.loads((DATA_DIR / "ieee33.json").read_text())


def table(doc, name):
    """pandapower's JSON stores every table as an orient='split' DataFrame string."""
    return json.loads(doc["net"]["_object"][name]["_object"])


def set_table(doc, name, data):
    doc["net"]["_object"][name]["_object"] = json.dumps(data)


def edit_cell(doc, name, row, column, value):
    data = table(doc, name)
    data["data"][row][data["columns"].index(column)] = value
    set_table(doc, name, data)


def write(tmp_path, doc, text=None):
    path = tmp_path / "bad_case.json"
    path.write_text(text if text is not None else json.dumps(doc))
    return path


def raises(tmp_path, doc, field_part, problem_part):
    with pytest.raises(CaseError) as err:
        read_case(write(tmp_path, doc))
    msg = str(err.value)
    assert msg.startswith("bad_case.json: "), msg
    assert field_part in err.value.field, msg
    assert problem_part in msg, msg
    return err.value


def test_the_shipped_file_is_valid(tmp_path, doc):
    case = read_case(write(tmp_path, doc))
    assert len(case.net.bus) == 33


def test_unknown_bus_in_a_line(tmp_path, doc):
    edit_cell(doc, "line", 3, "to_bus", 999)
    err = raises(tmp_path, doc, "to_bus", "unknown bus")
    assert err.value == 999


def test_unknown_bus_in_a_tie(tmp_path, doc):
    data = table(doc, "line")
    tie_row = next(i for i, r in enumerate(data["data"]) if r[data["columns"].index("in_service")] is False)
    edit_cell(doc, "line", tie_row, "from_bus", 4242)
    raises(tmp_path, doc, "from_bus", "= 4242: unknown bus")


@pytest.mark.parametrize("column,value,problem", [
    ("length_km", 0.0, "must be a finite number > 0"),
    ("length_km", -1.0, "must be a finite number > 0"),
    ("r_ohm_per_km", -0.2, ">= 0"),
    ("max_i_ka", 0.0, "> 0"),
])
def test_bad_line_numbers(tmp_path, doc, column, value, problem):
    edit_cell(doc, "line", 5, column, value)
    raises(tmp_path, doc, column, problem)


def test_zero_impedance(tmp_path, doc):
    edit_cell(doc, "line", 5, "r_ohm_per_km", 0.0)
    edit_cell(doc, "line", 5, "x_ohm_per_km", 0.0)
    raises(tmp_path, doc, "r_ohm_per_km", "zero impedance")


def test_duplicate_line_ids(tmp_path, doc):
    data = table(doc, "line")
    data["index"][4] = data["index"][3]
    set_table(doc, "line", data)
    raises(tmp_path, doc, "net.line", "duplicate index")


def test_base_topology_not_radial(tmp_path, doc):
    data = table(doc, "line")
    col = data["columns"].index("in_service")
    tie_row = next(i for i, r in enumerate(data["data"]) if r[col] is False)
    data["data"][tie_row][col] = True
    set_table(doc, "line", data)
    err = raises(tmp_path, doc, "net.line", "not radial")
    assert "loop" in str(err)


def test_substation_missing(tmp_path, doc):
    data = table(doc, "ext_grid")
    data["data"], data["index"] = [], []
    set_table(doc, "ext_grid", data)
    raises(tmp_path, doc, "net.ext_grid", "no substation")


def test_nan_load(tmp_path, doc):
    edit_cell(doc, "load", 2, "p_mw", None)  # JSON null -> NaN in the DataFrame
    raises(tmp_path, doc, "p_mw", "finite")


def test_unsupplied_bus(tmp_path, doc):
    edit_cell(doc, "line", 20, "in_service", False)
    raises(tmp_path, doc, "net.bus", "not connected to any substation")


def test_unknown_top_level_key(tmp_path, doc):
    doc["horizonn"] = {}
    raises(tmp_path, doc, "horizonn", "unknown key")


def test_unknown_candidate_table_and_column(tmp_path, doc):
    doc["candidates"]["wind_farms"] = []
    raises(tmp_path, doc, "candidates.wind_farms", "unknown table")
    del doc["candidates"]["wind_farms"]
    doc["candidates"]["pv"][0]["max_kw"] = 3
    raises(tmp_path, doc, "candidates.pv.max_kw", "unknown column")


def test_candidate_on_unknown_bus_and_duplicate(tmp_path, doc):
    doc["candidates"]["pv"][0]["bus"] = 77
    raises(tmp_path, doc, "candidates.pv[0].bus", "unknown bus")
    doc["candidates"]["pv"][0]["bus"] = doc["candidates"]["pv"][1]["bus"]
    raises(tmp_path, doc, "candidates.pv", "duplicate bus")


def test_bad_horizon_and_economics(tmp_path, doc):
    doc["horizon"]["n_stages"] = 0
    raises(tmp_path, doc, "horizon.n_stages", ">= 1")
    doc["horizon"]["n_stages"] = 3
    doc["economics"]["discount_rate"] = "eight percent"
    raises(tmp_path, doc, "economics.discount_rate", "finite number")


def test_broken_json_names_line(tmp_path, doc):
    with pytest.raises(CaseError, match=r"bad_case.json: json \(line 1"):
        read_case(write(tmp_path, doc, text='{"format": '))


def test_unknown_case_name_lists_available_cases():
    with pytest.raises(CaseError) as err:
        load_case("ieee34")
    assert "ieee33" in str(err.value) and "tpc84" in str(err.value)


def test_parameters_only_for_generated_cases():
    with pytest.raises(CaseError, match="only generated cases take parameters"):
        load_case("ieee33", n_bus=5)


def test_an_element_the_power_flow_does_not_model_is_named(tmp_path):
    case = load_case("ieee33")
    pp.create_gen(case.net, 18, p_mw=0.5, vm_pu=1.0)
    with pytest.raises(CaseError) as err:  # validated on writing as on reading
        write_case(case, tmp_path / "bad_case.json")
    assert err.value.field == "net.gen[0]" and "not supported by the batch engine" in str(err.value)
