"""from_pandapower refuses what the planning engine cannot model, naming table, index and reason;
out-of-service rows of the same elements are dropped instead."""

import pandapower as pp
import pandapower.networks as pn
import pytest

from fdnmoo.cases import CaseError, from_pandapower


@pytest.fixture
def net():
    return pn.case33bw()


def add_gen(net, in_service=True):
    return pp.create_gen(net, 5, p_mw=0.1, vm_pu=1.0, in_service=in_service)


def add_trafo3w(net, in_service=True):
    hv = pp.create_bus(net, 110.0)
    lv = pp.create_bus(net, 0.4)
    return pp.create_transformer3w_from_parameters(
        net, hv, 3, lv, vn_hv_kv=110.0, vn_mv_kv=12.66, vn_lv_kv=0.4, sn_hv_mva=10, sn_mv_mva=10,
        sn_lv_mva=1, vk_hv_percent=10, vk_mv_percent=10, vk_lv_percent=10, vkr_hv_percent=0.5,
        vkr_mv_percent=0.5, vkr_lv_percent=0.5, pfe_kw=0, i0_percent=0, in_service=in_service)


def add_impedance(net, in_service=True):
    return pp.create_impedance(net, 4, 20, rft_pu=0.01, xft_pu=0.01, sn_mva=1.0, in_service=in_service)


def add_ward(net, in_service=True):
    return pp.create_ward(net, 6, ps_mw=0.1, qs_mvar=0.0, pz_mw=0.0, qz_mvar=0.0, in_service=in_service)


def add_xward(net, in_service=True):
    return pp.create_xward(net, 6, ps_mw=0.1, qs_mvar=0.0, pz_mw=0.0, qz_mvar=0.0, r_ohm=0.1,
                           x_ohm=0.1, vm_pu=1.0, in_service=in_service)


def add_dcline(net, in_service=True):
    return pp.create_dcline(net, 10, 30, p_mw=0.1, loss_percent=1.0, loss_mw=0.0, vm_from_pu=1.0,
                            vm_to_pu=1.0, in_service=in_service)


ELEMENTS = {"gen": add_gen, "trafo3w": add_trafo3w, "impedance": add_impedance, "ward": add_ward,
            "xward": add_xward, "dcline": add_dcline}


@pytest.mark.parametrize("table", sorted(ELEMENTS))
def test_in_service_unsupported_element_is_refused_by_name(net, table):
    idx = ELEMENTS[table](net)
    with pytest.raises(CaseError) as err:
        from_pandapower(net, name="mine")
    assert err.value.field == f"net.{table}[{idx}]"
    assert "not supported" in str(err.value) and str(err.value).startswith("mine: ")


@pytest.mark.parametrize("table", sorted(set(ELEMENTS) - {"trafo3w"}))
def test_out_of_service_unsupported_element_is_dropped(net, table):
    ELEMENTS[table](net, in_service=False)
    case = from_pandapower(net)
    assert len(case.net[table]) == 0
    assert any(table in note for note in case.reference["notes"])


@pytest.mark.parametrize("column", ["const_z_p_percent", "const_i_q_percent"])
def test_zip_load_is_refused(net, column):
    net.load.loc[7, column] = 30.0
    with pytest.raises(CaseError) as err:
        from_pandapower(net)
    assert err.value.field == f"net.load[7].{column}" and "ZIP" in str(err.value)


def test_closed_bus_bus_switch_with_impedance_is_refused(net):
    extra = pp.create_bus(net, 12.66)
    sw = pp.create_switch(net, 5, extra, et="b", closed=True, z_ohm=0.5)
    with pytest.raises(CaseError) as err:
        from_pandapower(net)
    assert err.value.field == f"net.switch[{sw}].z_ohm" and "impedance" in str(err.value)


def test_a_closed_loop_is_refused_as_not_radial(net):
    net.line.loc[net.line.index[~net.line.in_service][0], "in_service"] = True
    with pytest.raises(CaseError, match="not radial"):
        from_pandapower(net)


def test_two_ext_grids_fused_by_a_switch_are_refused(net):
    other = pp.create_bus(net, 12.66)
    pp.create_ext_grid(net, other)
    pp.create_switch(net, 0, other, et="b", closed=True)
    with pytest.raises(CaseError, match="two ext_grids"):
        from_pandapower(net)


def test_unknown_keyword_suggests_the_closest(net):
    with pytest.raises(CaseError, match="did you mean 'pv_share'"):
        from_pandapower(net, pv_shar=0.3)


def test_unknown_record_field_suggests_the_closest(net):
    with pytest.raises(CaseError, match="did you mean 'discount_rate'"):
        from_pandapower(net, economics={"discount_rat": 0.1})


def test_bad_override_table_is_refused_by_the_validator(net):
    with pytest.raises(CaseError) as err:
        from_pandapower(net, pv=[{"bus": 999, "max_mw": 1.0}])
    assert err.value.field == "candidates.pv[0].bus" and "unknown bus" in str(err.value)
