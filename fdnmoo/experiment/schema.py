"""The keys of an experiment spec, as data: what the parser accepts and the README lists.

:data:`SPEC_KEYS` is the one list of spec keys. :mod:`fdnmoo.experiment.spec`
takes the allowed keys of every section from it (an unknown key is refused
with the closest of them), and :func:`spec_key_table` (re-exported by
:mod:`fdnmoo.experiment.spec`) renders it as the Markdown table of the README (a test
checks the README holds exactly that table).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SPEC_KEYS", "SpecKey", "section_keys", "spec_key_table"]


@dataclass(frozen=True)
class SpecKey:
    """One key of a spec.

    Parameters
    ----------
    key : str
        Dotted key (``"problem.stages"``); ``"algorithm.<option>"`` stands for
        any further option of the algorithm.
    kind : str
        What the value is (Markdown). ``{profiles}``, ``{backends}`` and
        ``{algorithms}`` are replaced by the registered names.
    default : str
        Default when the key is absent (Markdown).
    description : str
        What it does (Markdown).
    """

    key: str
    kind: str
    default: str
    description: str


SPEC_KEYS: tuple[SpecKey, ...] = (
    SpecKey("case", "string", "required (none with `problem.pymoo`)",
            "built-in case name (`fdnmoo cases`) or path of a case file, relative to the spec"),
    SpecKey("case_params", "mapping", "`{}`",
            "parameters of a generated case (`synthetic`: `n_bus`, `n_feeders`, `seed`, ...)"),
    SpecKey("case_overrides", "mapping", "`{}`",
            "changes to the case's `economics`, `uncertainty`, `limits` (`v_min_pu`, "
            "`v_max_pu`, `investment_budget_per_stage`) and `candidates` (one value for a "
            "column of a candidate table), checked like the case file"),
    SpecKey("plugins", "list of strings", "`[]`",
            "modules on `sys.path` or `.py` files (relative to the spec) that register "
            "objectives, constraints, gene blocks"),
    SpecKey("problem", "mapping", "`{}`", "the planning problem (`problem.*` keys)"),
    SpecKey("uncertainty", "mapping", "`{}`",
            "how source and load uncertainty is treated (`uncertainty.*` keys; the case's "
            "own deviations are `case_overrides.uncertainty`)"),
    SpecKey("uncertainty.method", "`deterministic`, `interval`, `affine`, `montecarlo` or "
            "`robust`", "`montecarlo`",
            "`deterministic`: the forecast only; `montecarlo`: sampled scenarios; `interval` / "
            "`affine`: interval objectives from the IA / AA power flow; `robust`: the budgeted "
            "box's worst case"),
    SpecKey("uncertainty.level", "number in [0, 1), or `{{load: x, pv: y}}`",
            "the case's deviations", "relative half-width +-delta of the uncertain sources"),
    SpecKey("uncertainty.samples", "integer >= 1", "`problem.samples`",
            "Monte Carlo samples per time slot"),
    SpecKey("uncertainty.gamma", "number in [0, 1)", "the constraints' own (0.05)",
            "risk level of `chance_voltage` / `chance_current`"),
    SpecKey("uncertainty.budget", "number >= 0", "every source",
            "robust box: at most this many sources at their bounds"),
    SpecKey("uncertainty.marginals", "`normal`, `gmm` or `kde`", "`normal`",
            "marginal distribution of the sources (GMM by BIC, KDE: fitted to profile data)"),
    SpecKey("uncertainty.dependence", "`none`, `nataf`, `gaussian`, `t`, `frank`, `gumbel`, "
            "`clayton` or `auto`", "`none`", "dependence of the fitted model: `nataf` / `gaussian` "
            "over the 24 hourly load and 24 PV values of a day; a copula family (or the best, "
            "`auto`) between the day's mean load and mean PV"),
    SpecKey("uncertainty.reduction", "`none`, `kmeans` or `backward`", "`none`",
            "reduction of generated daily scenarios to typical days"),
    SpecKey("uncertainty.data", "path of a CSV file", "the SimBench case's year, else "
            "fdnmoo's public year", "hourly `load_pu`, `pv_pu` rows the fitted marginals learn "
            "from (relative to the spec)"),
    SpecKey("uncertainty.generated_days", "integer >= 20", "3650",
            "days drawn from the fitted model before the reduction"),
    SpecKey("uncertainty.typical_days", "integer >= 1, below `generated_days`",
            "k by the SSE elbow and the silhouette over 2..10",
            "number of typical days the reduction keeps (one k-means fit, or backward "
            "reduction to k)"),
    SpecKey("uncertainty.seed", "integer >= 0", "`problem.scenario_seed`",
            "seed of the samples"),
    SpecKey("problem.pymoo", "pymoo problem name", "none",
            "a pymoo benchmark problem (`pymoo.problems.get_problem`: `zdt1`, `dtlz2`, ...) "
            "instead of a case and a planning problem: no `case`, the other `problem.*` keys "
            "are its constructor's (`n_var`, `n_obj`), pymoo's real-valued operators"),
    SpecKey("partition", "mapping", "none",
            "cluster labels of the buses, computed once per run (`clusters.csv`, "
            "`partition.json`, `clusters.png` in the results folder; `partition.*` keys)"),
    SpecKey("partition.labels", "path of a `clusters.csv`", "none (GA-SA runs)",
            "labels written by `fdnmoo partition` (relative to the spec)"),
    SpecKey("partition.seed", "integer >= 0", "`0`", "seed of the GA-SA partitioning"),
    SpecKey("partition.islanding", "`true` or `false`", "`true`",
            "the clusters island in the reliability objectives (`islanding_labels`)"),
    SpecKey("partition.single", "`true` or `false`", "`false`",
            "one cluster for every bus (centralised study, no decomposition)"),
    SpecKey("partition.<option>", "value", "the partitioner's",
            "any `GASAPartitioner` parameter: `max_clusters`, `min_clusters`, `weights` "
            "(w1..w4), `pop_size`, `n_generations`, `t_start`, `cooling`, `t_end`, ..."),
    SpecKey("problem.preset", "preset name", "`joint` (none when `blocks` is given)",
            "named composition (`fdnmoo.problems.planning.PRESETS`) whose blocks, objectives, "
            "constraints, profile and stages are the defaults"),
    SpecKey("problem.blocks", "list of entries", "the preset's",
            "gene blocks `{name: {parameter: value}}`; with a preset, changes to its blocks"),
    SpecKey("problem.stages", "integer >= 1", "the preset's, else the case horizon's",
            "planning stages"),
    SpecKey("problem.profile", "one of {profiles}", "the preset's, else `daily`",
            "time slots of a stage"),
    SpecKey("problem.days", "integer >= 1", "all 4",
            "typical days of the `daily` profile (1: one averaged day)"),
    SpecKey("problem.single_stage", "true or false", "`false`",
            "decide once, build in stage 1 for the horizon's end, operate every stage"),
    SpecKey("problem.samples", "integer >= 1", "`1`",
            "load/PV samples per time slot (1: the forecast only)"),
    SpecKey("problem.objectives", "list of entries", "the preset's",
            "objectives: names or `{name: {parameter: value}}`"),
    SpecKey("problem.constraints", "list of entries", "the preset's (none without a preset)",
            "constraints (`g <= 0` feasible), written like objectives"),
    SpecKey("problem.options", "mapping", "`{}`",
            "parameters shared by every objective and constraint that takes them (`w1`, ...)"),
    SpecKey("problem.horizon", "mapping", "`{}`",
            "changes to the case horizon: `n_stages`, `years_per_stage`, "
            "`load_growth_per_year`, `pv_penetration`, `ev_penetration`"),
    SpecKey("problem.operation", "mapping", "`{}` (all off)",
            "operation options: `curtailment`, `pv_reactive` (`qv`), `pv_inverter_ratio`, "
            "`capacitors` (`[{bus, step_mvar, steps}]`), `oltc` (`{step_percent, tap_min, "
            "tap_max}`); `fdnmoo.operation.settings`"),
    SpecKey("problem.scenario_seed", "integer >= 0", "`0`",
            "seed of the scenario samples (separate from `seed`: common random numbers)"),
    SpecKey("algorithm", "mapping", "`{}`", "the optimiser (`algorithm.*` keys)"),
    SpecKey("algorithm.name", "one of {algorithms}", "`nsga2`",
            "registered algorithm (`fdnmoo.operators.ALGORITHMS`)"),
    SpecKey("algorithm.pop_size", "integer >= 2", "`100`", "population size"),
    SpecKey("algorithm.n_gen", "integer >= 1", "`100` without `n_eval`/`max_time`",
            "generations; the run stops at whichever of `n_gen`, `n_eval`, `max_time` "
            "comes first"),
    SpecKey("algorithm.n_eval", "integer >= 1", "none",
            "evaluations; the generation that reaches it is finished, so a run may "
            "overshoot by up to one offspring batch"),
    SpecKey("algorithm.max_time", "seconds > 0 or `HH:MM:SS`", "none",
            "wall time over all sessions of a resumed run; not reproducible (depends on "
            "the machine and its load)"),
    SpecKey("algorithm.initial_from", "path of a results folder", "none",
            "an earlier run whose solutions open the initial population, genes matched by "
            "gene block, the blocks it lacks at \"nothing built\" "
            "(`fdnmoo.experiment.initial_population`); relative to the spec file"),
    SpecKey("algorithm.<option>", "value", "pymoo's",
            "any other constructor option of the pymoo class (`eliminate_duplicates`, ...), "
            "`crossover_prob` and `prob_var` of the genome operators, `n_partitions` of the "
            "reference directions"),
    SpecKey("seed", "integer >= 0", "`1`", "seed of the algorithm"),
    SpecKey("evaluation", "mapping", "`{}`", "how plans are evaluated (`evaluation.*` keys)"),
    SpecKey("evaluation.backend", "one of {backends}", "`serial`", "parallel backend"),
    SpecKey("evaluation.workers", "integer >= 1", "`1`", "worker processes"),
    SpecKey("evaluation.chunk_size", "integer >= 1", "the evaluator's",
            "genomes per task sent to a worker"),
    SpecKey("filter", "mapping", "none",
            "Pareto filters applied after the run, written to `filtered.csv` (`filter.*` "
            "keys; `fdnmoo filter` runs them on a results folder)"),
    SpecKey("filter.weakening", "integer in 1..N, or `true`", "none",
            "dominance weakening: a solution dominates when better on at least this many "
            "of the N objectives (`true`: floor(N/2) + 1)"),
    SpecKey("filter.deviation", "number > 0", "none",
            "D_max of the deviation-distance filter, run on the weakening's survivors "
            "(needs `uncertainty.method` `interval` or `affine`, or `comprehensive`)"),
    SpecKey("filter.comprehensive", "`true` or `false`", "`false`",
            "the comprehensive deviation distance: deterministic objectives too"),
    SpecKey("widths", "mapping", "none",
            "after the run, the Pareto solutions' objective intervals under affine, interval "
            "and Monte Carlo at each level: `widths.csv`, `widths_summary.csv` (`widths.*` keys)"),
    SpecKey("widths.levels", "number or list of numbers in (0, 1)", "`[0.1]`",
            "half-widths of the uncertainty box compared"),
    SpecKey("widths.samples", "integer >= 1", "`200`", "Monte Carlo points per plan (plus four "
            "vertices of the box)"),
    SpecKey("widths.methods", "list of `affine`, `interval`, `montecarlo`", "all three",
            "methods compared"),
    SpecKey("widths.seed", "integer >= 0", "`0`", "seed of the Monte Carlo points"),
    SpecKey("output", "string", "`results/<spec file name>`", "results folder"),
    SpecKey("description", "string", "`\"\"`", "free text, kept in `run.json`"),
)


def section_keys(section: str = "") -> tuple[str, ...]:
    """Keys of a section (``""``: the top level) as :data:`SPEC_KEYS` lists them."""
    prefix = f"{section}." if section else ""
    out = []
    for k in SPEC_KEYS:
        if k.key.startswith(prefix) and "." not in k.key[len(prefix):] \
                and not k.key.endswith("<option>"):
            out.append(k.key[len(prefix):])
    return tuple(out)


def spec_key_table() -> str:
    """The README's table of spec keys, rendered from :data:`~fdnmoo.experiment.schema.SPEC_KEYS`
    with the registered profiles, backends and algorithms."""
    from ..evaluation import BACKENDS
    from ..operators import ALGORITHMS
    from ..problems.planning import PROFILES

    def names(items) -> str:
        return ", ".join(f"`{n}`" for n in items)

    lists = {"profiles": names(PROFILES), "backends": names(BACKENDS),
             "algorithms": names(sorted(ALGORITHMS))}
    lines = ["| key | value | default | what |", "|---|---|---|---|"]
    for k in SPEC_KEYS:
        lines.append(f"| `{k.key}` | {k.kind.format(**lists)} | {k.default} | "
                     f"{k.description} |")
    return "\n".join(lines) + "\n"
