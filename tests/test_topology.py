"""Messages of the radial ordering name buses and branches as plain labels (issue 7)."""

import numpy as np
import pytest

from fdnmoo.cases import load_case
from fdnmoo.powerflow import BatchPowerFlow
from fdnmoo.topology import NonRadialError, radial_structure

# a root (bus 0) feeding the ring 1-2-3 through branch 0; branches 1, 2, 3 close the ring
FROM = np.array([0, 1, 2, 3])
TO = np.array([1, 2, 3, 1])


@pytest.mark.parametrize("bus_labels, branch_labels, buses, branches", [
    (None, None, [1, 2, 3], [1, 2, 3]),
    (np.array([10, 11, 12, 13]), np.array([40, 41, 42, 43]), [11, 12, 13], [41, 42, 43]),
])
def test_loop_message_shows_plain_labels(bus_labels, branch_labels, buses, branches):
    with pytest.raises(NonRadialError) as exc:
        radial_structure(4, FROM, TO, np.ones(4, bool), [0], bus_labels=bus_labels,
                         branch_labels=branch_labels)
    message = str(exc.value)
    assert "np." not in message and "int64" not in message
    assert sorted(exc.value.loop_branches) == branches and sorted(exc.value.loop_buses) == buses
    assert f"branches {exc.value.loop_branches} form a loop" in message
    assert all(type(b) is int for b in exc.value.loop_buses + exc.value.loop_branches)


def test_closing_a_tie_of_ieee33_names_the_loop():
    case = load_case("ieee33")
    pf = BatchPowerFlow(case.net)
    with pytest.raises(NonRadialError) as exc:
        pf.reconfigure(closed_lines=list(case.net.line.index)).structure  # all lines closed
    assert "np." not in str(exc.value) and str(exc.value).startswith("topology is not radial")
    with pytest.raises(KeyError, match=r"unknown line 999\b") as unknown:
        pf.reconfigure(closed_lines=[1, 2, 999]).structure
    assert "np." not in str(unknown.value)
