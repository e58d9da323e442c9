"""Scenario samples from a model fitted to observed days (``uncertainty.marginals: gmm | kde``).

:func:`fitted_samples` gives the scenario batch, per time slot and sample, a factor on
the forecast demand and the PV output, drawn from a model of daily load and PV fitted
to observed days (:func:`fdnmoo.scenarios.observed.observed_days`: ``uncertainty.data``,
else the SimBench case's year, else fdnmoo's public year).

Model (``dependence``)
    ``nataf`` / ``gaussian``: :class:`~fdnmoo.uncertainty.daily.DailyScenarioModel` over
    all 48 hourly columns (24 load, 24 PV), so a sample day keeps the dependence between
    its hours and between load and PV. ``t``, ``frank``, ``gumbel``, ``clayton``, ``auto``:
    :class:`~fdnmoo.uncertainty.daily.CopulaDailyModel`, the copula coupling the day's
    mean load and mean PV, hourly shapes from the nearest observed day. Marginals are
    GMM (components by BIC) or KDE. The data are system-level (one load and one PV
    profile), so every load bus follows the same load factor and every PV candidate the
    same PV output: the sources are fully correlated in space.

Without reduction
    The batch keeps its profile's days (typical days, load levels or the SimBench year);
    sample 0 is the forecast. Sample ``s >= 1`` of day ``d`` is one day ``x`` drawn from
    the model (a new one per day and sample), applied as a relative deviation: a slot
    covering hours ``H`` gets ``load factor = sum_H x_load / sum_H mu_load`` and
    ``pv = forecast pv * sum_H x_pv / sum_H mu_pv``, ``mu`` the observed days' hourly
    mean (slot/hour overlaps weight partial hours). Hours where ``mu`` is below 1 % of its
    largest hourly value (PV at night) keep factor 1. So the forecast stays the centre,
    and the spread, skew and correlations are the fitted model's.

With reduction (``kmeans`` | ``backward``)
    ``generated_days`` days (default 3,650) are drawn from the model and reduced by
    :func:`~fdnmoo.uncertainty.reduction.kmeans_reduction` (k by SSE elbow and silhouette,
    2..10) or :func:`~fdnmoo.uncertainty.reduction.backward_reduction` at the k the k-means
    rule picks (so both give the same number of days); ``typical_days`` fixes k instead
    (one k-means fit; backward reduction without k-means). The reduced scenarios become the
    batch's days, 24 one-hour slots each, with their probabilities (cluster shares; slot
    hours = probability x 365 x 1 h) and the shipped EV charging profile. Sample 0 is the
    representative (k-means centre, or the kept day), samples ``s >= 1`` are members of its
    cluster drawn with replacement, each a whole day. The batch's profile and days are then
    the reduction's: profile must be ``daily`` and ``days`` unset.

Level
    Fitted marginals replace the case's half-widths: the spread is the data's
    (:class:`~fdnmoo.uncertainty.settings.UncertaintySettings` refuses ``level`` with them).

Seeds (common random numbers)
    ``SeedSequence(seed)`` gives the seeds of the fit, the draws and the choice of
    members; a batch is the same for every candidate, worker and rebuild. Fitted models
    are cached per process by (data, marginals, dependence, seed).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import numpy as np

from ..uncertainty.daily import CopulaDailyModel, DailyScenarioModel
from ..uncertainty.reduction import backward_reduction, kmeans_reduction
from ..uncertainty.settings import GENERATED_DAYS, UncertaintySettings
from .observed import observed_days
from .profiles import TypicalDays, typical_days

__all__ = ["FittedSamples", "fitted_samples", "generated_days", "daily_model", "hour_weights",
           "clear_model_cache"]

_HOURS = 24
_SIGNIFICANT = 0.01  # share of the largest hourly mean below which an hour keeps factor 1
_CACHE_SIZE = 4
_models: dict = {}


@dataclass(frozen=True)
class FittedSamples:
    """Per-slot, per-sample scenario values from a fitted model.

    Attributes
    ----------
    days : TypicalDays
        The batch's days: the profile's, or the reduced ones.
    load_factor : ndarray, shape (n_slots, n_samples)
        Multiplies the forecast per-unit demand of every bus (1 in sample 0).
    pv_pu : ndarray, shape (n_slots, n_samples)
        PV output per unit of installed capacity (sample 0: the forecast).
    info : dict
        ``source``, ``model``, ``family`` (the copula used, if any), ``observed_days``;
        with a reduction also ``reduction``, ``k``, ``probability``, ``distance``
        (Kantorovich), ``generated_days``, ``cluster_sizes`` (generated days per
        reduced day) and ``seconds`` (wall time of the k-means selection and, for
        ``backward``, of the backward reduction).
    """

    days: TypicalDays
    load_factor: np.ndarray
    pv_pu: np.ndarray
    info: dict = field(default_factory=dict)


def daily_model(marginals: str, dependence: str, seed: int):
    """The unfitted daily model for ``marginals`` and ``dependence`` (module docstring)."""
    if dependence in ("nataf", "gaussian"):
        return DailyScenarioModel(dependence=dependence, marginal=marginals, random_state=seed)
    return CopulaDailyModel(family=dependence, marginal=marginals, random_state=seed)


def clear_model_cache() -> None:
    """Forget the fitted models of this process."""
    _models.clear()


def _fitted_model(X: np.ndarray, source: str, settings: UncertaintySettings, seed: int):
    key = (hashlib.sha1(np.ascontiguousarray(X).tobytes()).hexdigest(), settings.marginals,
           settings.dependence, seed)
    if key not in _models:
        try:
            model = daily_model(settings.marginals, settings.dependence, seed).fit(X)
        except ValueError as exc:
            raise ValueError(f"uncertainty: fitting marginals {settings.marginals!r} with "
                             f"dependence {settings.dependence!r} to {source} failed: {exc}") from None
        if len(_models) >= _CACHE_SIZE:
            _models.pop(next(iter(_models)))
        _models[key] = model
    return _models[key]


def hour_weights(days: TypicalDays) -> np.ndarray:
    """``(slots_per_day, 24)`` hours of each hour that each slot of a day covers."""
    dt = days.slot_duration_h
    start = np.arange(days.slots_per_day)[:, None] * dt
    hour = np.arange(_HOURS)[None, :]
    return np.clip(np.minimum(start + dt, hour + 1) - np.maximum(start, hour), 0.0, None)


def fitted_samples(grid, settings: UncertaintySettings, days: TypicalDays, n_samples: int,
                   seed: int) -> FittedSamples:
    """Samples for ``grid``'s batch from the model ``settings`` name (module docstring).

    Parameters
    ----------
    grid : PlanningGrid
        Its case decides the default data (a SimBench case's year).
    settings : UncertaintySettings
        With fitted marginals.
    days : TypicalDays
        The profile's days (replaced under a reduction).
    n_samples : int
        Samples per slot; sample 0 is the forecast.
    seed : int

    Returns
    -------
    FittedSamples
    """
    if not settings.fitted:
        raise ValueError("fitted_samples needs fitted marginals (gmm or kde)")
    fit_seed, draw_seq, member_seq = _seeds(seed)
    reduced = settings.reduction != "none"
    if n_samples == 1 and not reduced:  # the forecast alone: nothing to fit
        ones = np.ones((days.n_slots, 1))
        return FittedSamples(days, ones, days.pv_pu.ravel()[:, None].copy(), {"model": "forecast only"})
    X, model, info = _model_of(grid, settings, fit_seed)
    if reduced:
        gen = _draw_days(model, settings, draw_seq)
        return _reduced(gen, settings, n_samples, fit_seed, member_seq, info)
    return _deviations(model, X, days, n_samples, draw_seq, info)


def generated_days(grid, settings: UncertaintySettings, seed: int) -> tuple[np.ndarray, int, dict]:
    """The days a reduction of :func:`fitted_samples` reduces, with the same seeds.

    Returns
    -------
    days : ndarray, shape (generated_days, 48)
        24 hourly load values, then 24 hourly PV values per drawn day.
    kmeans_seed : int
        The ``random_state`` the batch's k-means gets.
    info : dict
        ``source``, ``model``, ``observed_days``, ``family``.
    """
    fit_seed, draw_seq, _ = _seeds(seed)
    _, model, info = _model_of(grid, settings, fit_seed)
    return _draw_days(model, settings, draw_seq), fit_seed, info


def _seeds(seed: int):
    fit_seq, draw_seq, member_seq = np.random.SeedSequence(seed).spawn(3)
    return int(fit_seq.generate_state(1)[0] >> 1), draw_seq, member_seq


def _model_of(grid, settings: UncertaintySettings, fit_seed: int):
    X, source = observed_days(grid, settings.data)
    model = _fitted_model(X, source, settings, fit_seed)
    info = {"source": source, "model": type(model).__name__, "observed_days": int(X.shape[0]),
            "family": getattr(model, "family_", settings.dependence)}
    return X, model, info


def _draw_days(model, settings: UncertaintySettings, draw_seq) -> np.ndarray:
    return model.sample(settings.generated_days or GENERATED_DAYS,
                        random_state=np.random.default_rng(draw_seq))


def _deviations(model, X, days: TypicalDays, n_samples: int, draw_seq, info) -> FittedSamples:
    n_d, m = days.n_days, days.slots_per_day
    W = hour_weights(days)
    gen = model.sample(n_d * (n_samples - 1), random_state=np.random.default_rng(draw_seq))
    gen = gen.reshape(n_d, n_samples - 1, 2 * _HOURS)
    factors = []
    for part in (slice(0, _HOURS), slice(_HOURS, 2 * _HOURS)):
        ref = W @ X[:, part].mean(axis=0)                                  # (m,)
        ok = ref > _SIGNIFICANT * ref.max() if ref.max() > 0 else np.zeros(m, bool)
        f = np.ones((n_d, m, n_samples))
        f[:, :, 1:] = np.where(ok[None, :, None],
                               np.einsum("dsh,mh->dms", gen[..., part], W) / np.where(ok, ref, 1.0)[None, :, None],
                               1.0)
        factors.append(f.reshape(n_d * m, n_samples))
    pv = days.pv_pu.ravel()[:, None] * factors[1]
    return FittedSamples(days, factors[0], pv, info)


def _reduced(gen: np.ndarray, settings: UncertaintySettings, n_samples: int, fit_seed: int,
             member_seq, info) -> FittedSamples:
    n_gen = gen.shape[0]
    start = time.perf_counter()
    fixed_k = settings.typical_days
    if settings.reduction == "backward" and fixed_k is not None:
        red = backward_reduction(gen, fixed_k)
        seconds = {"backward": time.perf_counter() - start}
    else:
        red = kmeans_reduction(gen, random_state=fit_seed,
                               **({} if fixed_k is None else {"k_values": [fixed_k]}))
        seconds = {"kmeans": time.perf_counter() - start}
    if settings.reduction == "backward" and fixed_k is None:
        start = time.perf_counter()
        red = backward_reduction(gen, red.k)
        seconds["backward"] = time.perf_counter() - start
    k = red.k
    reps = np.asarray(red.scenarios, float)
    rng = np.random.default_rng(member_seq)
    load_factor = np.ones((k, _HOURS, n_samples))
    pv = np.empty((k, _HOURS, n_samples))
    pv[:, :, 0] = reps[:, _HOURS:]
    for c in range(k):
        members = np.flatnonzero(red.labels == c)
        pick = gen[rng.choice(members, size=n_samples - 1, replace=True)]   # (n_samples - 1, 48)
        rep_load = reps[c, :_HOURS]
        load_factor[c, :, 1:] = np.where(rep_load[:, None] > 0,
                                         pick[:, :_HOURS].T / np.where(rep_load > 0, rep_load, 1.0)[:, None],
                                         1.0)
        pv[c, :, 1:] = pick[:, _HOURS:].T
    ev = typical_days("daily").ev_pu[0]
    days = TypicalDays(names=tuple(f"typical day {c + 1}" for c in range(k)),
                       probability=np.asarray(red.probability, float) / red.probability.sum(),
                       load_pu=reps[:, :_HOURS].copy(), pv_pu=reps[:, _HOURS:].copy(),
                       ev_pu=np.tile(ev, (k, 1)), slot_duration_h=1.0)
    info = {**info, "reduction": settings.reduction, "k": int(k), "generated_days": int(n_gen),
            "probability": days.probability.tolist(), "distance": float(red.distance),
            "cluster_sizes": np.bincount(red.labels, minlength=k).tolist(), "seconds": seconds}
    return FittedSamples(days, load_factor.reshape(k * _HOURS, n_samples),
                         pv.reshape(k * _HOURS, n_samples), info)
