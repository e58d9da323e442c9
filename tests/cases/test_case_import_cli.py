"""``fdnmoo case import``: writes a loadable case file; bad input exits 2 with one line."""

import pandapower as pp
import pandapower.networks as pn
import pytest

from fdnmoo.cases import load_case
from fdnmoo.cli import main


@pytest.fixture
def net_file(tmp_path):
    path = tmp_path / "cigre.json"
    pp.to_json(pn.create_cigre_network_mv(with_der="pv_wind"), str(path))
    return path


def test_import_a_pandapower_file(net_file, tmp_path, capsys):
    out = tmp_path / "case.json"
    assert main(["case", "import", str(net_file), "--out", str(out)]) == 0
    assert "3 ties" in capsys.readouterr().out
    case = load_case(str(out))
    assert case.name == "cigre" and len(case.tie_lines) == 3


def test_import_simbench_code(tmp_path):
    out = tmp_path / "rural.json"
    assert main(["case", "import", "simbench:1-MV-rural--0-sw", "--out", str(out), "--name", "r"]) == 0
    case = load_case(str(out))
    assert case.name == "r" and case.reference["profiles"]["code"] == "1-MV-rural--0-sw"


@pytest.mark.parametrize("source, message", [
    ("simbench:1-MV-rual--0-sw", "did you mean 1-MV-rural--0-sw"),
    ("nosuchfile.json", "no such pandapower net file"),
])
def test_bad_source_exit_2_one_line(source, message, tmp_path, capsys):
    assert main(["case", "import", source, "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_unsupported_element_exit_2_names_it(tmp_path, capsys):
    net = pn.case33bw()
    pp.create_gen(net, 5, p_mw=0.1, vm_pu=1.0)
    path = tmp_path / "withgen.json"
    pp.to_json(net, str(path))
    assert main(["case", "import", str(path), "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "withgen.json: net.gen[0]" in err


def test_cases_table_lists_the_simbench_cases(capsys):
    assert main(["cases"]) == 0
    out = capsys.readouterr().out
    for name in ("simbench-mv-rural", "simbench-mv-semiurb", "simbench-mv-urban", "simbench-mv-comm"):
        assert name in out
