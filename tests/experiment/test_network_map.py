"""What the network maps draw: line states, tie routes, bus labels and the legend.

The tests find artists by their ``gid``, check their data against the plan
drawn, and measure the rendered bus labels (their bounding boxes after
``fig.canvas.draw()``). Tie routes are checked against an independent
segment-intersection test written here (orientation signs), not against the
routine the map uses (matplotlib's path intersection).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from figure_checks import assert_png_of, draw, overlap_share

from fdnmoo.cases import load_case
from fdnmoo.experiment.network_map import coordinates_are_schematic
from fdnmoo.experiment.plots import network_figure, plot_network
from fdnmoo.planning import Plan, planning_grid

LINE_STATES = ("closed_line", "opened_section", "open_tie", "closed_tie", "new_line")


def artists(ax, gid: str) -> list:
    return [a for a in (*ax.lines, *ax.collections) if a.get_gid() == gid]


def points(ax, gid: str) -> np.ndarray:
    """Offsets of every scatter with ``gid`` on ``ax``, stacked (n, 2)."""
    found = [a.get_offsets() for a in artists(ax, gid)]
    return np.vstack(found) if found else np.zeros((0, 2))


def ends(ax, gid: str) -> set[frozenset]:
    """First and last point of every line with ``gid``, as sets (a line joins two buses)."""
    out = set()
    for a in artists(ax, gid):
        data = np.column_stack(a.get_data())
        out.add(frozenset({tuple(data[0]), tuple(data[-1])}))
    return out


def texts(ax, gid: str) -> list:
    return [t for t in ax.texts if t.get_gid() == gid]


def xy(grid, bus: int) -> tuple[float, float]:
    return float(grid.net.bus.x_km[bus]), float(grid.net.bus.y_km[bus])


def stage_axes(fig) -> list:
    return [ax for ax in fig.axes if ax.get_title().startswith("stage")]


def legend_texts(fig) -> list[str]:
    return [t.get_text() for t in fig.legends[0].get_texts()]


def pieces(line) -> list[np.ndarray]:
    """The drawn two-point segments of a Line2D (NaN rows split it)."""
    data = np.column_stack(line.get_data())
    return [data[i:i + 2] for i in range(len(data) - 1) if np.isfinite(data[i:i + 2]).all()]


def segments_meet(p, q, r, s, tol: float = 1e-9) -> bool:
    """Whether segments p-q and r-s share a point other than a common end point."""
    p, q, r, s = (np.asarray(v, float) for v in (p, q, r, s))

    def orient(a, b, c):
        v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return 0 if abs(v) < tol else (1 if v > 0 else -1)

    def on(a, b, c):  # c on segment a-b, c collinear with it
        return min(a[0], b[0]) - tol <= c[0] <= max(a[0], b[0]) + tol and \
            min(a[1], b[1]) - tol <= c[1] <= max(a[1], b[1]) + tol

    o1, o2, o3, o4 = orient(p, q, r), orient(p, q, s), orient(r, s, p), orient(r, s, q)
    if 0 not in (o1, o2, o3, o4):
        return o1 != o2 and o3 != o4
    if o1 == o2 == 0:  # collinear: overlapping beyond a shared end point?
        d = q - p
        t = sorted(float(np.dot(v - p, d) / np.dot(d, d)) for v in (r, s))
        return min(1.0, t[1]) - max(0.0, t[0]) > tol
    shared = any(np.allclose(a, b) for a in (p, q) for b in (r, s))
    return not shared and ((o1 == 0 and on(p, q, r)) or (o2 == 0 and on(p, q, s))
                           or (o3 == 0 and on(r, s, p)) or (o4 == 0 and on(r, s, q)))


@pytest.fixture(scope="module")
def ieee33():
    return planning_grid(load_case("ieee33"))


@pytest.fixture(scope="module")
def ieee33_plan(ieee33):
    grid = ieee33
    closed = grid.base_closed_lines
    # stage 2: close tie 33 (21-8) and open the section feeding bus 21 from bus 20
    section = int(grid.net.line.index[(grid.net.line.from_bus == 20)
                                      & (grid.net.line.to_bus == 21)][0])
    stage2 = np.append(closed[closed != section], 33)
    sop = pd.DataFrame({"stage": [2, 2, 3, 3, 3], "device": [0, 0, 0, 0, 0],
                        "bus": [12, 22, 12, 22, 18], "capacity_mva": [0.5, 0.5, 1, 1, 0.5]})
    pv = np.zeros((3, len(grid.case.candidates["pv"])))
    pv[1:, 0], pv[2, 3] = 0.4, 1.0  # candidates 0 and 3: buses 7 and 22
    svc = np.zeros((3, len(grid.case.candidates["svc"])))
    svc[:, 1] = 0.3  # candidate 1: bus 18
    return Plan(n_stages=3, closed_lines=[closed, stage2, stage2],
                closed_trafos=[grid.base_closed_trafos] * 3, sop=sop,
                der={"pv": pv, "svc": svc})


def test_ieee33_map_draws_every_line_by_state_and_the_sop_pv_svc(ieee33, ieee33_plan, tmp_path):
    grid = ieee33
    fig = network_figure(grid, ieee33_plan, title="test plan")
    axes = stage_axes(fig)
    assert [ax.get_title() for ax in axes] == ["stage 1", "stage 2", "stage 3"]
    assert fig._suptitle.get_text() == "ieee33: test plan"
    # Baran & Wu: 32 sections, 5 ties (lines 33..37), 33 buses, one substation (bus 1)
    s1, s2, s3 = axes
    counts = [{state: len(artists(ax, state)) for state in LINE_STATES} for ax in axes]
    assert counts[0] == {"closed_line": 32, "opened_section": 0, "open_tie": 5, "closed_tie": 0,
                         "new_line": 0}
    assert counts[1] == counts[2] == {"closed_line": 31, "opened_section": 1, "open_tie": 4,
                                      "closed_tie": 1, "new_line": 0}
    for ax in axes:
        assert len(points(ax, "bus")) == 33
        np.testing.assert_allclose(points(ax, "substation"), [xy(grid, 1)])
        assert not artists(ax, "new_substation")
    tie_8_21 = frozenset({xy(grid, 8), xy(grid, 21)})
    section_20_21 = frozenset({xy(grid, 20), xy(grid, 21)})
    assert tie_8_21 in ends(s1, "open_tie") and section_20_21 in ends(s1, "closed_line")
    assert ends(s2, "closed_tie") == {tie_8_21} and ends(s2, "opened_section") == {section_20_21}
    # an opened section does not look like an open tie (nor like a closed tie)
    opened, tie = artists(s2, "opened_section")[0], artists(s2, "open_tie")[0]
    closed_tie, section = artists(s2, "closed_tie")[0], artists(s2, "closed_line")[0]
    assert (opened.get_color(), opened.get_linestyle()) != (tie.get_color(), tie.get_linestyle())
    assert closed_tie.get_color() != section.get_color()
    # SOP: no device in stage 1, two terminals in stage 2, three in stage 3, each linked to its hub
    assert [len(artists(ax, "sop_link")) for ax in axes] == [0, 2, 3]
    assert [len(points(ax, "sop_terminal")) for ax in axes] == [0, 2, 3]
    np.testing.assert_allclose(points(s3, "sop_terminal"), [xy(grid, b) for b in (12, 22, 18)])
    np.testing.assert_allclose(points(s3, "sop_hub"),
                               [np.mean([xy(grid, b) for b in (12, 22, 18)], axis=0)])
    # PV at bus 7 from stage 2 (0.4 MW), at bus 22 in stage 3 (1 MW); area 30 + 270 * cap / max
    assert len(points(s1, "pv")) == 0
    np.testing.assert_allclose(points(s2, "pv"), [xy(grid, 7)])
    np.testing.assert_allclose(points(s3, "pv"), [xy(grid, 7), xy(grid, 22)])
    np.testing.assert_allclose(artists(s3, "pv")[0].get_sizes(), [138.0, 300.0])
    for ax in axes:  # SVC 0.3 Mvar at bus 18 in every stage, the largest SVC: full size
        np.testing.assert_allclose(points(ax, "svc"), [xy(grid, 18)])
        np.testing.assert_allclose(artists(ax, "svc")[0].get_sizes(), [300.0])
    # one legend entry per element type drawn on any stage, nothing for what is not drawn
    assert legend_texts(fig) == ["closed section", "opened section", "open tie", "closed tie",
                                 "bus (label: number)", "SOP", "PV (area ~ MW)",
                                 "SVC (area ~ Mvar)", "substation"]
    path = plot_network(grid, ieee33_plan, tmp_path / "map.png", title="test plan")
    assert_png_of(fig, path)


def test_base_topology_legend_lists_only_what_is_drawn(ieee33):
    fig = network_figure(ieee33, Plan.on_base_topology(ieee33, 1))
    assert legend_texts(fig) == ["closed section", "open tie", "bus (label: number)",
                                 "substation"]


def test_md24_map_draws_new_lines_and_the_new_substation(tmp_path):
    grid = planning_grid(load_case("md24"))
    built = grid.candidate_lines.index[:3].to_numpy()
    trafo = int(grid.candidate_trafos.index[0])
    new_lines = pd.DataFrame({"line": built, "corridor": grid.candidate_lines.corridor[built],
                              "conductor": grid.candidate_lines.conductor[built],
                              "stage": [1, 2, 2]})
    subs = pd.DataFrame({"bus": [int(grid.candidate_trafos.bus[trafo])], "trafo": [trafo],
                         "type": [int(grid.candidate_trafos.type[trafo])], "stage": [2]})
    base = grid.base_closed_lines
    plan = Plan(n_stages=2, closed_lines=[np.append(base, built[:1]), np.append(base, built)],
                closed_trafos=[grid.base_closed_trafos, np.append(grid.base_closed_trafos, trafo)],
                new_lines=new_lines, substations=subs)
    fig = network_figure(grid, plan)
    s1, s2 = stage_axes(fig)
    line = grid.net.line
    built_ends = {int(k): frozenset({xy(grid, int(line.from_bus[k])),
                                     xy(grid, int(line.to_bus[k]))}) for k in built}
    # one line built in stage 1, three by stage 2 (two conductors share corridor 0)
    assert len(artists(s1, "new_line")) == 1 and ends(s1, "new_line") == {built_ends[built[0]]}
    assert len(artists(s2, "new_line")) == 3
    assert ends(s2, "new_line") == set(built_ends.values())
    n_base = len(grid.base_lines)
    for ax in (s1, s2):
        assert sum(len(artists(ax, state)) for state in LINE_STATES[:4]) == n_base
    # substations 21 and 22 exist; candidate 23 is built in stage 2 (md24, Munoz-Delgado et al.)
    for ax in (s1, s2):
        np.testing.assert_allclose(points(ax, "substation"), [xy(grid, 21), xy(grid, 22)])
    assert len(points(s1, "new_substation")) == 0
    np.testing.assert_allclose(points(s2, "new_substation"), [xy(grid, 23)])
    assert {"new line", "new substation"} <= set(legend_texts(fig))
    assert_png_of(fig, plot_network(grid, plan, tmp_path / "md24.png"))


@pytest.fixture(scope="module", params=["ieee69", "tpc84"])
def base_map(request):
    grid = planning_grid(load_case(request.param))
    fig = network_figure(grid, Plan.on_base_topology(grid, 1))
    draw(fig)
    return grid, fig


def test_every_bus_is_labelled_and_labels_rarely_overlap(base_map):
    grid, fig = base_map
    (ax,) = stage_axes(fig)
    labels = texts(ax, "bus_label")
    assert sorted(t.get_text() for t in labels) == sorted(str(b) for b in grid.net.bus.index)
    for t in labels:  # each label is anchored at its bus
        assert t.xy == pytest.approx(xy(grid, int(t.get_text())))
        assert t.get_fontsize() >= 5  # readable in print
    renderer = fig.canvas.get_renderer()
    # measured at this commit: 0 % of the bus labels overlap another one on ieee69 and tpc84,
    # 2.5 % / 4.1 % counting the far-bus labels of tie stubs
    assert overlap_share(labels, renderer) <= 0.02
    assert overlap_share(labels + texts(ax, "tie_end_label"), renderer) <= 0.08


def test_schematic_ties_neither_cross_sections_nor_the_map(base_map):
    grid, fig = base_map
    case = grid.case
    assert coordinates_are_schematic(case)
    (ax,) = stage_axes(fig)
    line = grid.net.line
    sections = [(xy(grid, int(f)), xy(grid, int(t))) for k, f, t in
                zip(line.index, line.from_bus, line.to_bus) if k not in case.tie_lines.index]
    ties = artists(ax, "open_tie")
    assert len(ties) == len(case.tie_lines)  # ieee69: 5 (Baran & Wu), tpc84: 13 (Su & Lee)
    expected = {frozenset({xy(grid, int(f)), xy(grid, int(t))})
                for f, t in zip(case.tie_lines.from_bus, case.tie_lines.to_bus)}
    assert ends(ax, "open_tie") == expected  # every tie drawn from its bus to its bus
    width = np.ptp(grid.net.bus.x_km)
    n_stubbed = 0
    for tie in ties:
        for p, q in pieces(tie):
            assert not any(segments_meet(p, q, a, b) for a, b in sections)
            assert np.hypot(*(q - p)) < 0.25 * width
        n_stubbed += len(pieces(tie)) == 2
    # a stubbed tie names its far end at both stubs
    assert len(texts(ax, "tie_end_label")) == 2 * n_stubbed > 0


def test_straight_ties_of_the_raw_layout_cross_sections_or_the_map():
    # the defect this routing fixes, on ieee69's tree layout: drawn straight, the ties 11-43
    # and 15-46 run over other feeders' sections, 13-21 lies on the lateral 13..21, and
    # 50-59 and 27-65 (crossing nothing) span a third of the map
    grid = planning_grid(load_case("ieee69"))
    line = grid.net.line
    sections = [(xy(grid, int(f)), xy(grid, int(t))) for k, f, t in
                zip(line.index, line.from_bus, line.to_bus) if k not in grid.case.tie_lines.index]
    for a, b in ((11, 43), (15, 46), (13, 21)):
        assert any(segments_meet(xy(grid, a), xy(grid, b), p, q) for p, q in sections)
    width = np.ptp(grid.net.bus.x_km)
    for a, b in ((50, 59), (27, 65)):
        assert np.hypot(*np.subtract(xy(grid, a), xy(grid, b))) > 0.2 * width
    (ax,) = stage_axes(network_figure(grid, Plan.on_base_topology(grid, 1)))
    assert all(len(pieces(tie)) == 2 for tie in artists(ax, "open_tie"))  # all five stubbed


def test_geographic_ties_are_straight():
    grid = planning_grid(load_case("simbench-mv-rural"))
    assert not coordinates_are_schematic(grid.case)
    (ax,) = stage_axes(network_figure(grid, Plan.on_base_topology(grid, 1)))
    ties = artists(ax, "open_tie")
    assert len(ties) == len(grid.case.tie_lines) > 0
    assert all(len(t.get_xdata()) == 2 for t in ties) and not texts(ax, "tie_end_label")


@pytest.mark.parametrize("name, schematic", [("ieee33", True), ("ieee69", True),
                                             ("tpc84", True), ("md24", True),
                                             ("simbench-mv-urban", False)])
def test_the_case_says_whether_its_coordinates_are_schematic(name, schematic):
    assert coordinates_are_schematic(load_case(name)) is schematic


def test_imported_case_coordinates_follow_the_import_note():
    import pandapower.networks as pn

    from fdnmoo.cases import from_pandapower

    case = from_pandapower(pn.case33bw(), coordinates="schematic", reference_power_flow=False)
    assert "schematic" in case.reference["coordinates"]
    assert coordinates_are_schematic(case)
