"""Operation options of a problem: the ``problem.operation`` block of a spec.

:class:`OperationSettings` is the checked, frozen form of that block (and of
``ProblemConfig(operation=...)``)::

    problem:
      operation:
        curtailment: true           # curtail PV against over-voltage and reverse overload
        pv_reactive: qv             # PV inverters' reactive power by a Q(V) droop
        pv_inverter_ratio: 1.1      # inverter rating S / PV capacity (Q room sqrt(S^2 - P^2))
        capacitors:                 # switched capacitor banks (constant Q per step)
          - {bus: 18, step_mvar: 0.1, steps: 4}
        oltc: {step_percent: 1.25, tap_min: -8, tap_max: 8}   # on-load tap changer

Every option is off by default; with all of them off the operation is exactly what it
was without the block. The rules each option applies are in
:mod:`fdnmoo.operation.controls`. The curtailment penalty is priced by the case's
``economics.prices.pv_curtailment_per_mwh`` (``case_overrides``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from ..parameters import ParameterError, did_you_mean

__all__ = ["Capacitor", "Oltc", "OperationSettings", "PV_REACTIVE_RULES"]

#: Rules of the PV inverters' reactive power.
PV_REACTIVE_RULES = ("off", "qv")


@dataclass(frozen=True)
class Capacitor:
    """A switched capacitor bank: ``steps`` steps of ``step_mvar`` at bus label ``bus``."""

    bus: int
    step_mvar: float
    steps: int


@dataclass(frozen=True)
class Oltc:
    """On-load tap changer at every substation: ratio ``1 + tap * step_percent / 100``
    with ``tap_min <= tap <= tap_max`` (integers)."""

    step_percent: float = 1.25
    tap_min: int = -8
    tap_max: int = 8


@dataclass(frozen=True)
class OperationSettings:
    """The checked ``problem.operation`` block (see the module docstring).

    Parameters
    ----------
    curtailment : bool
        Curtail PV output where it would raise a bus above ``v_max`` or reverse a line's
        flow beyond its limit.
    pv_reactive : str
        One of :data:`PV_REACTIVE_RULES`.
    pv_inverter_ratio : float
        Inverter apparent-power rating per MW of PV capacity (>= 1).
    capacitors : tuple of Capacitor
    oltc : Oltc, optional
    """

    curtailment: bool = False
    pv_reactive: str = "off"
    pv_inverter_ratio: float = 1.1
    capacitors: tuple = ()
    oltc: Oltc | None = None

    @property
    def active(self) -> bool:
        """Whether any option changes the operation."""
        return (self.curtailment or self.pv_reactive != "off" or bool(self.capacitors)
                or self.oltc is not None)

    @classmethod
    def from_mapping(cls, block: Mapping[str, Any] | None, key: str = "operation"
                     ) -> "OperationSettings":
        """Check a mapping (a spec's block, or pairs) and return the settings.

        Raises
        ------
        fdnmoo.parameters.ParameterError
            An unknown key (with the closest known one) or a bad value; its ``key``
            names the entry (``"operation.capacitors[0].steps"``).
        """
        if block is None:
            return cls()
        if isinstance(block, OperationSettings):
            return block
        values = dict(_mapping(block, key, [f.name for f in fields(cls)]))
        if "curtailment" in values:
            values["curtailment"] = _flag(values["curtailment"], f"{key}.curtailment")
        if "pv_reactive" in values and values["pv_reactive"] not in PV_REACTIVE_RULES:
            rule = values["pv_reactive"]
            raise ParameterError(f"{key}.pv_reactive", f"unknown rule {rule!r}"
                                 f"{did_you_mean(rule, PV_REACTIVE_RULES)}; choose one of "
                                 f"{', '.join(PV_REACTIVE_RULES)}")
        if "pv_inverter_ratio" in values:
            r = _number(values["pv_inverter_ratio"], f"{key}.pv_inverter_ratio")
            if r < 1.0:
                raise ParameterError(f"{key}.pv_inverter_ratio", f"must be >= 1 (the inverter "
                                     f"carries the PV's full output), got {r}")
            values["pv_inverter_ratio"] = r
        if "capacitors" in values:
            values["capacitors"] = _capacitors(values["capacitors"], f"{key}.capacitors")
        if values.get("oltc") is not None:
            values["oltc"] = _oltc(values["oltc"], f"{key}.oltc")
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for ``run.json`` and spec round trips."""
        out = asdict(self)
        out["capacitors"] = [asdict(c) for c in self.capacitors]
        return out


def _mapping(block: Any, key: str, known: list[str]) -> Mapping:
    if not isinstance(block, Mapping):
        try:
            block = dict(block)
        except (TypeError, ValueError):
            raise ParameterError(key, f"expected a mapping, got {block!r}") from None
    for name in block:
        if name not in known:
            raise ParameterError(f"{key}.{name}", f"unknown key {name!r}"
                                 f"{did_you_mean(name, known)}; keys are {', '.join(known)}")
    return block


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(key, f"expected true or false, got {value!r}")
    return value


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(key, f"expected a number, got {value!r}")
    return float(value)


def _integer(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(key, f"expected an integer, got {value!r}")
    return int(value)


def _capacitors(value: Any, key: str) -> tuple:
    if isinstance(value, (str, Mapping)) or not isinstance(value, (list, tuple)):
        raise ParameterError(key, f"expected a list of {{bus, step_mvar, steps}}, got {value!r}")
    out = []
    for i, item in enumerate(value):
        k = f"{key}[{i}]"
        if isinstance(item, Capacitor):
            item = asdict(item)
        item = _mapping(item, k, ["bus", "step_mvar", "steps"])
        missing = [n for n in ("bus", "step_mvar", "steps") if n not in item]
        if missing:
            raise ParameterError(f"{k}.{missing[0]}", "missing (a bank needs bus, step_mvar, steps)")
        step = _number(item["step_mvar"], f"{k}.step_mvar")
        steps = _integer(item["steps"], f"{k}.steps")
        if step <= 0:
            raise ParameterError(f"{k}.step_mvar", f"must be > 0, got {step}")
        if steps < 1:
            raise ParameterError(f"{k}.steps", f"must be >= 1, got {steps}")
        out.append(Capacitor(_integer(item["bus"], f"{k}.bus"), step, steps))
    buses = [c.bus for c in out]
    for i, b in enumerate(buses):
        if b in buses[:i]:
            raise ParameterError(f"{key}[{i}].bus", f"bus {b} has a bank already: give one bank "
                                 "per bus (more steps instead)")
    return tuple(out)


def _oltc(value: Any, key: str) -> Oltc:
    if isinstance(value, Oltc):
        return value
    if value is True:
        return Oltc()
    item = dict(_mapping(value, key, [f.name for f in fields(Oltc)]))
    out = Oltc(step_percent=_number(item.get("step_percent", Oltc.step_percent),
                                    f"{key}.step_percent"),
               tap_min=_integer(item.get("tap_min", Oltc.tap_min), f"{key}.tap_min"),
               tap_max=_integer(item.get("tap_max", Oltc.tap_max), f"{key}.tap_max"))
    if not 0 < out.step_percent < 10:
        raise ParameterError(f"{key}.step_percent", f"must lie in (0, 10), got {out.step_percent}")
    if not out.tap_min <= 0 <= out.tap_max:
        raise ParameterError(f"{key}.tap_min", f"need tap_min <= 0 <= tap_max, got "
                             f"[{out.tap_min}, {out.tap_max}]")
    return out
