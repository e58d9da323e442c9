"""How a problem treats source and load uncertainty: the ``uncertainty:`` block of a spec.

:class:`UncertaintySettings` is the checked, frozen form of that block (and of
``ProblemConfig(uncertainty=...)``)::

    uncertainty:
      method: montecarlo        # deterministic | interval | affine | montecarlo | robust
      level: {load: 0.1, pv: 0.2}   # +-delta per source kind (a number: both kinds)
      samples: 200              # Monte Carlo samples per time slot
      gamma: 0.05               # chance-constraint risk level
      budget: 2                 # robust box: at most this many sources at their bounds
      marginals: gmm            # gmm | kde | normal
      dependence: nataf         # nataf | gaussian | t | frank | gumbel | clayton | auto | none
      reduction: kmeans         # kmeans | backward | none
      data: my_profiles.csv     # hourly load_pu, pv_pu rows to fit (default: see below)
      generated_days: 3650      # days drawn from the fitted model before the reduction
      typical_days: 4           # fix k of the reduction (default: SSE elbow / silhouette)
      seed: 7                   # seed of the samples (default: the problem's)

Every key is optional; without the block a problem keeps the behaviour it has always
had: Monte Carlo over the case's deviations with independent truncated-normal
factors (``marginals: normal``, ``dependence: none``, ``reduction: none``).

``marginals: gmm | kde`` with a ``dependence`` fits a model of daily load and PV to
observed days (``data``, else the SimBench case's year, else fdnmoo's public year:
:mod:`fdnmoo.scenarios.observed`) and the samples come from it
(:mod:`fdnmoo.scenarios.fitted`). Combinations that would leave a key without effect
are refused (:meth:`UncertaintySettings.from_mapping` names the key): a ``dependence``
or ``reduction`` or ``data`` without fitted marginals, fitted marginals without a
dependence, ``level`` with fitted marginals under ``montecarlo`` / ``deterministic``
(the spread is then the data's, not a half-width), fitted marginals under
``deterministic`` without a reduction (the forecast alone uses no model), and
``generated_days`` or ``typical_days`` without a reduction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path, PurePath
from typing import Any, Mapping

from ..parameters import ParameterError, did_you_mean

__all__ = ["DEPENDENCES", "GENERATED_DAYS", "MARGINAL_KINDS", "METHODS", "REDUCTIONS",
           "SOURCE_KINDS", "UncertaintySettings"]

METHODS = ("deterministic", "interval", "affine", "montecarlo", "robust")
MARGINAL_KINDS = ("normal", "gmm", "kde")
DEPENDENCES = ("none", "nataf", "gaussian", "t", "frank", "gumbel", "clayton", "auto")
REDUCTIONS = ("none", "kmeans", "backward")
#: Kinds of uncertain sources ``level`` may name.
SOURCE_KINDS = ("load", "pv")
#: Default number of days drawn from a fitted model before a reduction (ten years).
GENERATED_DAYS = 3650
_MIN_GENERATED_DAYS = 20  # k-means tries k = 2..10 and needs more days than that


@dataclass(frozen=True)
class UncertaintySettings:
    """The checked ``uncertainty:`` block (see the module docstring).

    Parameters
    ----------
    method : str
        One of :data:`METHODS`.
    level : tuple of (str, float) pairs
        Relative half-width per source kind of :data:`SOURCE_KINDS`; a kind not
        given keeps the case's (``case.uncertainty.load_deviation`` /
        ``pv_deviation``).
    samples : int, optional
        Samples per slot (Monte Carlo); default: the problem's ``n_samples``.
    gamma : float, optional
        Risk level of the chance constraints that do not set their own.
    budget : float, optional
        Uncertainty budget Gamma of the robust box (default: every source).
    marginals, dependence, reduction : str
        Of :data:`MARGINAL_KINDS`, :data:`DEPENDENCES`, :data:`REDUCTIONS`.
    data : str, optional
        CSV of hourly ``load_pu``, ``pv_pu`` rows the fitted marginals learn from
        (:func:`fdnmoo.scenarios.observed.observed_days`).
    generated_days : int, optional
        Days drawn from the fitted model and reduced (default :data:`GENERATED_DAYS`).
    typical_days : int, optional
        Number k of typical days the reduction keeps, in [1, generated days - 1]
        (default: k chosen by the SSE elbow and the silhouette over 2..10,
        :func:`~fdnmoo.uncertainty.reduction.kmeans_reduction`).
    seed : int, optional
        Seed of the fit and the samples (default: the problem's ``seed``).
    """

    method: str = "montecarlo"
    level: tuple = ()
    samples: int | None = None
    gamma: float | None = None
    budget: float | None = None
    marginals: str = "normal"
    dependence: str = "none"
    reduction: str = "none"
    data: str | None = None
    generated_days: int | None = None
    typical_days: int | None = None
    seed: int | None = None

    @classmethod
    def from_mapping(cls, block: Mapping[str, Any] | None, key: str = "uncertainty"
                     ) -> "UncertaintySettings":
        """Check a mapping (a spec's block, or pairs) and return the settings.

        Raises
        ------
        fdnmoo.parameters.ParameterError
            An unknown key (with the closest known one) or a bad value; its
            ``key`` names the entry (``"uncertainty.level.pv"``).
        """
        if block is None:
            return cls()
        if isinstance(block, UncertaintySettings):
            return block
        if not isinstance(block, Mapping):
            try:
                block = dict(block)
            except (TypeError, ValueError):
                raise ParameterError(key, f"expected a mapping, got {block!r}") from None
        known = [f.name for f in fields(cls)]
        for name in block:
            if name not in known:
                raise ParameterError(f"{key}.{name}", f"unknown key {name!r}"
                                     f"{did_you_mean(name, known)}; keys are {', '.join(known)}")
        values = dict(block)
        for name, choices in (("method", METHODS), ("marginals", MARGINAL_KINDS),
                              ("dependence", DEPENDENCES), ("reduction", REDUCTIONS)):
            if name in values and values[name] not in choices:
                raise ParameterError(f"{key}.{name}", f"unknown {name} {values[name]!r}"
                                     f"{did_you_mean(values[name], choices)}; choose one of "
                                     f"{', '.join(choices)}")
        if "level" in values:
            values["level"] = _levels(values["level"], f"{key}.level")
        if values.get("samples") is not None:
            values["samples"] = _integer(values["samples"], f"{key}.samples", low=1)
        if values.get("generated_days") is not None:
            values["generated_days"] = _integer(values["generated_days"], f"{key}.generated_days",
                                                low=_MIN_GENERATED_DAYS)
        if values.get("typical_days") is not None:
            values["typical_days"] = _integer(values["typical_days"], f"{key}.typical_days", low=1)
        if values.get("data") is not None:
            if not isinstance(values["data"], (str, PurePath)) or not str(values["data"]):
                raise ParameterError(f"{key}.data", f"expected the path of a CSV file, got {values['data']!r}")
            values["data"] = str(values["data"])
        if values.get("seed") is not None:
            values["seed"] = _integer(values["seed"], f"{key}.seed", low=0)
        if values.get("gamma") is not None:
            g = _number(values["gamma"], f"{key}.gamma")
            if not 0.0 <= g < 1.0:
                raise ParameterError(f"{key}.gamma", f"must lie in [0, 1), got {g}")
            values["gamma"] = g
        if values.get("budget") is not None:
            b = _number(values["budget"], f"{key}.budget")
            if b < 0:
                raise ParameterError(f"{key}.budget", f"must be >= 0, got {b}")
            values["budget"] = b
        out = cls(**values)
        out._check_combination(key)
        return out

    @property
    def fitted(self) -> bool:
        """True if the samples come from a model fitted to observed days."""
        return self.marginals != "normal"

    def _check_combination(self, key: str) -> None:
        """Refuse keys that the other keys would leave without effect (module docstring)."""
        fitted_kinds = ", ".join(k for k in MARGINAL_KINDS if k != "normal")
        if not self.fitted:
            for name, idle in (("dependence", "none"), ("reduction", "none"), ("data", None)):
                if getattr(self, name) != idle:
                    raise ParameterError(f"{key}.{name}", f"{name} {getattr(self, name)!r} acts on a "
                                         f"model fitted to profile data: set marginals ({fitted_kinds}); "
                                         "marginals 'normal' samples independent truncated-normal factors")
            return
        if self.dependence == "none":
            raise ParameterError(f"{key}.dependence", f"fitted marginals {self.marginals!r} need a "
                                 f"dependence model: one of {', '.join(DEPENDENCES[1:])}")
        if self.level and self.method in ("montecarlo", "deterministic"):
            raise ParameterError(f"{key}.level", f"with fitted marginals {self.marginals!r} the "
                                 "spread of the samples is the data's, so a half-width would have no "
                                 "effect: drop level, or use marginals 'normal'")
        if self.method != "montecarlo" and self.reduction == "none":
            raise ParameterError(f"{key}.marginals", f"method {self.method!r} evaluates the "
                                 "forecast only, which uses no fitted model: add reduction "
                                 "(kmeans or backward) to evaluate reduced typical days, or drop "
                                 "marginals")
        for name in ("generated_days", "typical_days"):
            if getattr(self, name) is not None and self.reduction == "none":
                raise ParameterError(f"{key}.{name}", f"{name} acts on a reduction of generated "
                                     "days: set reduction (kmeans or backward)")
        n_days = self.generated_days or GENERATED_DAYS
        if self.typical_days is not None and self.typical_days >= n_days:
            raise ParameterError(f"{key}.typical_days", f"a reduction of {n_days} generated days "
                                 f"keeps fewer than {n_days} typical days, got {self.typical_days}")

    def with_data_base(self, base_dir) -> "UncertaintySettings":
        """A copy whose relative ``data`` path is resolved against ``base_dir`` (a spec's folder)
        if the file is there."""
        if self.data is None or base_dir is None or Path(self.data).is_absolute():
            return self
        there = Path(base_dir) / self.data
        return replace(self, data=str(there)) if there.is_file() else self

    def level_of(self, kind: str, case) -> float:
        """The half-width of source kind ``kind`` (``"load"``/``"pv"``) for ``case``."""
        if kind not in SOURCE_KINDS:
            raise KeyError(f"unknown source kind {kind!r}; kinds are {SOURCE_KINDS}")
        given = dict(self.level)
        if kind in given:
            return float(given[kind])
        return float(getattr(case.uncertainty, f"{kind}_deviation"))

    def as_dict(self) -> dict[str, Any]:
        """Plain data (``level`` as a mapping), for ``run.json``."""
        out = asdict(self)
        out["level"] = dict(self.level)
        return out


def _levels(value: Any, key: str) -> tuple:
    if isinstance(value, bool):
        raise ParameterError(key, f"expected a number or a mapping of {SOURCE_KINDS}, got {value!r}")
    if isinstance(value, (int, float)):
        value = {kind: value for kind in SOURCE_KINDS}
    if isinstance(value, (list, tuple)):
        try:
            value = dict(value)
        except (TypeError, ValueError):
            raise ParameterError(key, f"expected a number or a mapping, got {value!r}") from None
    if not isinstance(value, Mapping):
        raise ParameterError(key, f"expected a number or a mapping of {SOURCE_KINDS}, got {value!r}")
    out = []
    for kind, level in value.items():
        if kind not in SOURCE_KINDS:
            raise ParameterError(f"{key}.{kind}", f"unknown source kind {kind!r}"
                                 f"{did_you_mean(kind, SOURCE_KINDS)}; kinds are "
                                 f"{', '.join(SOURCE_KINDS)}")
        x = _number(level, f"{key}.{kind}")
        if not 0.0 <= x < 1.0:
            raise ParameterError(f"{key}.{kind}", f"a relative half-width must lie in [0, 1), "
                                                  f"got {x}")
        out.append((kind, x))
    return tuple(sorted(out))


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(key, f"expected a number, got {value!r}")
    x = float(value)
    if x != x:
        raise ParameterError(key, "expected a number, got NaN")
    return x


def _integer(value: Any, key: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ParameterError(key, f"expected an integer >= {low}, got {value!r}")
    return int(value)
