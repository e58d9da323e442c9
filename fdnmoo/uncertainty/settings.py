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
      seed: 7                   # seed of the samples (default: the problem's)

Every key is optional; without the block a problem keeps the behaviour it has always
had: Monte Carlo over the case's deviations with independent truncated-normal
factors (``marginals: normal``, ``dependence: none``, ``reduction: none``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from ..parameters import ParameterError, did_you_mean

__all__ = ["DEPENDENCES", "MARGINAL_KINDS", "METHODS", "REDUCTIONS", "SOURCE_KINDS",
           "UncertaintySettings"]

METHODS = ("deterministic", "interval", "affine", "montecarlo", "robust")
MARGINAL_KINDS = ("normal", "gmm", "kde")
DEPENDENCES = ("none", "nataf", "gaussian", "t", "frank", "gumbel", "clayton", "auto")
REDUCTIONS = ("none", "kmeans", "backward")
#: Kinds of uncertain sources ``level`` may name.
SOURCE_KINDS = ("load", "pv")


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
    seed : int, optional
        Seed of the samples (default: the problem's ``seed``).
    """

    method: str = "montecarlo"
    level: tuple = ()
    samples: int | None = None
    gamma: float | None = None
    budget: float | None = None
    marginals: str = "normal"
    dependence: str = "none"
    reduction: str = "none"
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
        return cls(**values)

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
