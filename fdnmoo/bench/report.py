"""Text rendering of a benchmark report."""

from __future__ import annotations

from .pgm_peer import PGM_METHODS

__all__ = ["format_report"]


def format_report(report: dict) -> str:
    """The human-readable table of a :func:`run_benchmark` report."""
    meta = report["meta"]
    v = meta["versions"]
    lines = [f"Power-flow benchmark ({meta['time']}; {meta['cpu']}; numba threads "
             f"{meta['numba_threads']}; power-grid-model {meta['pgm_threading']})",
             "versions: " + ", ".join(f"{k} {val}" for k, val in v.items()), ""]
    for key in ("ieee33", "feeder", "simbench"):
        if key in report and "skipped" in report[key]:
            lines += [f"== {report[key]['name']}: skipped ({report[key]['skipped']}) ==", ""]
        elif key in report:
            lines += _format_case(report[key]) + [""]
    if "scaling" in report:
        lines += _format_scaling(report["scaling"]) + [""]
    if "targets" in report:
        lines += _format_targets(report["targets"])
    return "\n".join(lines)


def _format_case(case: dict) -> list[str]:
    ours = case["ours"]
    lines = [f"== {case['name']}: {case['n_bus']} buses, {case['n_scenarios']} scenarios "
             f"(demand x U[0, 2] per bus) ==",
             f"{'engine':<34}{'time per PF':>16}{'PF per s':>14}{'peer / ours':>14}"]
    lines.append(f"{'fdnmoo BatchPowerFlow (1 core)':<34}{ours['us_per_pf']:>13.3f} us"
                 f"{ours['pf_per_s']:>14,.0f}{'1':>14}")
    if "pandapower" in case:
        pp_ = case["pandapower"]
        lines.append(f"{'pandapower runpp (' + str(pp_['n_calls']) + ' calls)':<34}"
                     f"{pp_['ms_per_call']:>13.3f} ms{1e3 / pp_['ms_per_call']:>14,.0f}"
                     f"{case['ratios']['pandapower/ours']:>14,.0f}")
    for method in PGM_METHODS:
        key = f"pgm_{method}"
        if key in case:
            lines.append(f"{'power-grid-model ' + method:<34}{case[key]['us_per_pf']:>13.3f} us"
                         f"{case[key]['pf_per_s']:>14,.0f}{case['ratios'][key + '/ours']:>14.1f}")
    lines.append(f"our sweeps per PF: mean {ours['mean_iterations']:.2f}, max {ours['max_iterations']}, "
                 f"converged {ours['converged_share']:.1%}")
    for name, dv in case["accuracy"].items():
        lines.append(f"max |dV| {name}: {dv:.2e} p.u.")
    lines += [f"note: {n}" for n in case.get("notes", [])]
    return lines


def _format_scaling(scaling: dict) -> list[str]:
    pts = scaling["points"]
    has_pgm = any("pgm_us_per_pf" in p for p in pts)
    head = (f"{'buses':>8}{'scenarios':>11}{'us per PF':>12}{'ns/PF/bus':>11}{'sweeps':>8}"
            f"{'ns/sweep/bus':>14}")
    if has_pgm:
        head += f"{'PGM NR us/PF':>14}{'PGM/ours':>10}{'max|dV|':>10}"
    lines = ["== scaling: synthetic feeders (ours, 1 core) ==", head]
    for p in pts:
        row = (f"{p['n_bus']:>8}{p['n_scenarios']:>11}{p['us_per_pf']:>12.2f}"
               f"{p['ns_per_pf_per_bus']:>11.2f}{p['mean_iterations']:>8.2f}"
               f"{p['ns_per_sweep_per_bus']:>14.2f}")
        if "pgm_us_per_pf" in p:
            row += f"{p['pgm_us_per_pf']:>14.1f}{p['pgm/ours']:>10.1f}{p['max_dv_vs_pgm']:>10.1e}"
        lines.append(row)
    lines.append(f"log-log slope of time per PF vs buses: {scaling['exponent']:.3f} "
                 f"(1 = linear); time per PF per bus, largest / smallest: "
                 f"{scaling['per_bus_growth']:.2f}")
    return lines


def _format_targets(targets: list[dict]) -> list[str]:
    lines = ["== targets (issue) =="]
    for t in targets:
        status = {True: "MET", False: "NOT MET", None: "not measured"}[t["met"]]
        value = "-" if t["value"] is None else f"{t['value']:,.3f}"
        lines.append(f"{t['target']:<42}{value:>14}  (target {t['op']} {t['threshold']:g})  {status}")
    return lines
