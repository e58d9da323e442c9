"""Schemas of the planning-case tables, as data.

Every candidate table a case may carry, and the extra columns our cases add to
pandapower's own tables, are listed here with type, unit and meaning. The
validator (:mod:`fdnmoo.cases.validate`) and the documentation both read these
rows, so a new table is one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Column", "CANDIDATE_TABLES", "TABLE_KEYS", "NET_EXTRA_COLUMNS", "BUS_COLUMNS", "LINE_COLUMNS"]


@dataclass(frozen=True)
class Column:
    """One column of a case table."""

    name: str
    dtype: str  # "int", "float", "str" or "bool"
    unit: str
    required: bool
    description: str
    bus_ref: bool = False  # values must be bus labels of the net
    min_value: float | None = None  # inclusive lower bound for numbers
    positive: bool = False  # strictly > 0
    max_value: float | None = None  # inclusive upper bound for numbers


def _bus(description: str = "bus label in net.bus") -> Column:
    return Column("bus", "int", "-", True, description, bus_ref=True)


#: Candidate tables: table name -> columns. Unknown table names are refused.
CANDIDATE_TABLES: dict[str, tuple[Column, ...]] = {
    "sop_nodes": (
        _bus("bus able to host a soft-open-point terminal (default: tie-line ends)"),
        Column("feeder", "str", "-", True, "supply area (feeder) of the bus"),
    ),
    "pv": (
        _bus("candidate bus for photovoltaics"),
        Column("max_mw", "float", "MW", True, "largest PV capacity at the bus (the converter's "
               "MVA rating where power_factor is given)", positive=True),
        Column("power_factor", "float", "-", False, "converter power factor in (0, 1]: P = pf S, "
               "Q = P tan(acos pf) injected (default 1)", positive=True, max_value=1.0),
    ),
    "svc": (
        _bus("candidate bus for a static var compensator"),
        Column("max_mvar", "float", "Mvar", True, "largest SVC capacity at the bus", positive=True),
    ),
    "ess": (
        _bus("candidate bus for energy storage"),
        Column("max_mw", "float", "MW", True, "largest converter power", positive=True),
        Column("max_mwh", "float", "MWh", True, "largest energy capacity", positive=True),
        Column("soc_min", "float", "-", False, "lowest state of charge, share of the energy "
               "capacity (default 0)", min_value=0, max_value=1.0),
        Column("soc_max", "float", "-", False, "highest state of charge, share of the energy "
               "capacity (default 1)", min_value=0, max_value=1.0),
    ),
    "evcs": (
        _bus("candidate bus for an EV charging station"),
        Column("max_mw", "float", "MW", True, "largest charging power", positive=True),
    ),
    "dg": (
        _bus("candidate bus for dispatchable or wind generation"),
        Column("technology", "str", "-", True, "generation technology, e.g. 'conventional', 'wind'"),
    ),
    "dg_types": (
        Column("technology", "str", "-", True, "technology the alternative belongs to"),
        Column("alternative", "int", "-", True, "alternative number within the technology", min_value=1),
        Column("capacity_mva", "float", "MVA", True, "rated capacity", positive=True),
        Column("investment_per_mva", "float", "currency/MVA", True, "capital cost", min_value=0),
        Column("energy_cost_per_mwh", "float", "currency/MWh", True, "production cost", min_value=0),
        Column("lifetime_years", "float", "yr", True, "economic lifetime", positive=True),
    ),
    "substations": (
        _bus("substation bus (existing ones are ext_grid buses)"),
        Column("status", "str", "-", True, "'existing' or 'candidate'"),
        Column("investment", "float", "currency", True, "cost of building or expanding the site", min_value=0),
        Column("lifetime_years", "float", "yr", True, "economic lifetime", positive=True),
        Column("capacity_mva", "float", "MVA", False, "installed transformer capacity (existing)", min_value=0),
    ),
    "transformer_types": (
        Column("type", "int", "-", True, "type number (0 is 'none')", min_value=1),
        Column("status", "str", "-", True, "'existing' or 'new'"),
        Column("capacity_mva", "float", "MVA", True, "rated power", positive=True),
        Column("impedance_ohm", "float", "ohm", True, "series impedance referred to the MV side", positive=True),
        Column("investment", "float", "currency", True, "capital cost per unit", min_value=0),
        Column("maintenance_per_year", "float", "currency/yr", True, "O&M cost per unit", min_value=0),
        Column("lifetime_years", "float", "yr", True, "economic lifetime", positive=True),
    ),
    "corridors": (
        Column("from_bus", "int", "-", True, "one end", bus_ref=True),
        Column("to_bus", "int", "-", True, "other end", bus_ref=True),
        Column("length_km", "float", "km", True, "route length", positive=True),
        Column("kind", "str", "-", True, "'existing_fixed', 'existing_replaceable', 'new' or "
               "'reinforcement' (a stronger copy of the existing line)"),
        Column("line", "int", "-", False, "net.line label of the existing line (-1 if none)", min_value=-1),
        Column("capacity_factor", "float", "-", False, "reinforcement: x the line's max_i_ka",
               positive=True),
        Column("impedance_factor", "float", "-", False, "reinforcement: x the line's r and x",
               positive=True),
        Column("cost_factor", "float", "-", False, "reinforcement: x unit_costs.line_per_km",
               min_value=0),
        Column("transformer_factor", "float", "-", False, "reinforcement: the feeder's "
               "transformer is expanded to this x its head capacity when the feeder is first "
               "reinforced (fdnmoo.metrics.feeder_transformers)", min_value=1.0),
    ),
    "conductors": (
        Column("type", "int", "-", True, "conductor number (0 is 'none')", min_value=1),
        Column("kind", "str", "-", True, "corridor kind the conductor may be built in"),
        Column("r_ohm_per_km", "float", "ohm/km", True, "series resistance", min_value=0),
        Column("x_ohm_per_km", "float", "ohm/km", True, "series reactance", min_value=0),
        Column("max_i_ka", "float", "kA", True, "thermal current limit", positive=True),
        Column("investment_per_km", "float", "currency/km", True, "capital cost", min_value=0),
        Column("maintenance_per_km_year", "float", "currency/(km yr)", True, "O&M cost", min_value=0),
        Column("lifetime_years", "float", "yr", True, "economic lifetime", positive=True),
    ),
    "wind_speed": (
        Column("zone", "str", "-", True, "wind zone (matches net.bus.zone)"),
        Column("level", "int", "-", True, "load level number", min_value=1),
        Column("speed_m_s", "float", "m/s", True, "mean wind speed in the zone at that level", min_value=0),
    ),
    "wind_power_curve": (
        Column("alternative", "int", "-", True, "wind DG alternative the curve belongs to", min_value=1),
        Column("speed_m_s", "float", "m/s", True, "wind speed", min_value=0),
        Column("p_kw", "float", "kW", True, "turbine output at that speed", min_value=0),
    ),
    "stage_demand": (
        _bus("load bus"),
        Column("stage", "int", "-", True, "planning stage (1-based)", min_value=1),
        Column("p_mw", "float", "MW", True, "peak active demand in the stage", min_value=0),
        Column("q_mvar", "float", "Mvar", True, "peak reactive demand in the stage"),
    ),
    "load_levels": (
        Column("level", "int", "-", True, "load level number", min_value=1),
        Column("load_factor", "float", "-", True, "demand as a share of peak", positive=True),
        Column("duration_h", "float", "h/yr", True, "hours per year at this level", positive=True),
        Column("energy_price_per_mwh", "float", "currency/MWh", True, "price of energy bought at substations", min_value=0),
    ),
}

#: Columns our cases add to pandapower's ``net.bus``.
BUS_COLUMNS: tuple[Column, ...] = (
    Column("feeder", "str", "-", True, "supply area: the feeder (or substation area) the bus belongs to in the base topology"),
    Column("x_km", "float", "km", True, "x coordinate (schematic where the source gives none)"),
    Column("y_km", "float", "km", True, "y coordinate (schematic where the source gives none)"),
)

#: Columns our cases add to pandapower's ``net.line``.
LINE_COLUMNS: tuple[Column, ...] = (
    Column("failure_rate_per_year", "float", "1/yr", True, "permanent failures per year of the section", min_value=0),
    Column("repair_time_h", "float", "h", True, "mean time to repair a failure", min_value=0),
)

#: Columns our cases add to pandapower's ``net.load``.
LOAD_COLUMNS: tuple[Column, ...] = (
    Column("load_class", "str", "-", False, "customer sector for the interruption cost "
           "(fdnmoo.damage.LOAD_CLASSES; default 'residential')"),
)

NET_EXTRA_COLUMNS: dict[str, tuple[Column, ...]] = {"bus": BUS_COLUMNS, "line": LINE_COLUMNS,
                                                    "load": LOAD_COLUMNS}

#: Columns whose combination must be unique in each candidate table.
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "sop_nodes": ("bus",), "pv": ("bus",), "svc": ("bus",), "ess": ("bus",), "evcs": ("bus",),
    "dg": ("bus", "technology"), "dg_types": ("technology", "alternative"),
    "substations": ("bus",), "transformer_types": ("type",), "corridors": ("from_bus", "to_bus"),
    "conductors": ("type",), "stage_demand": ("bus", "stage"), "load_levels": ("level",),
    "wind_speed": ("zone", "level"), "wind_power_curve": ("alternative", "speed_m_s"),
}
