"""The check of a case's ``economics.form`` (the form of the present value, defined in
:mod:`fdnmoo.metrics.economics`), kept apart from :mod:`fdnmoo.cases.validate` so that both
the case checks and the cost model can call it."""

from __future__ import annotations

from ..parameters import did_you_mean
from .errors import CaseError
from .model import ECONOMIC_FORMS

__all__ = ["check_form"]


def check_form(economics, file: str) -> str:
    """``economics.form``, checked: one of the forms, and a perpetuity that converges.

    Raises
    ------
    CaseError
        Naming ``file``, the field and the value (with the closest form for a typo).
    """
    form = economics.form
    if form not in ECONOMIC_FORMS:
        raise CaseError(file, "economics.form", form, f"unknown form"
                        f"{did_you_mean(str(form), ECONOMIC_FORMS)}; forms are "
                        f"{', '.join(ECONOMIC_FORMS)}")
    d, f = float(economics.discount_rate), float(economics.inflation_rate)
    if form == "perpetuity" and not d > f:
        raise CaseError(file, "economics.form", form, f"a perpetuity needs economics."
                        f"discount_rate > inflation_rate (got {d} and {f})")
    return form
