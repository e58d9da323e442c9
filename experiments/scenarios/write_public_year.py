"""Write fdnmoo/scenarios/data/public_year.csv from the SimBench profiles of 1-MV-rural--0-sw.

Run from the repository root: ``python experiments/scenarios/write_public_year.py``.
The definition (which SimBench profiles, how they are combined) is in
:mod:`fdnmoo.scenarios.observed`; tests/scenarios/test_observed.py checks (slow) that the
shipped file equals this output.
"""

from pathlib import Path

from fdnmoo.scenarios.observed import PUBLIC_YEAR_FILE, public_year_table

if __name__ == "__main__":
    path = Path(__file__).resolve().parents[2] / "fdnmoo" / "scenarios" / "data" / PUBLIC_YEAR_FILE
    public_year_table().to_csv(path, index=False, float_format="%.6f")
    print(f"wrote {path}")
