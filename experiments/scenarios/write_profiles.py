"""Write fdnmoo/scenarios/data/typical_days.csv from the profile generator.

Run from the repository root: ``python experiments/scenarios/write_profiles.py``.
The formulas are documented in :mod:`fdnmoo.scenarios.profiles`;
tests/scenarios/test_profiles.py checks the shipped file equals this output.
"""

from pathlib import Path

from fdnmoo.scenarios.profiles import PROFILE_FILE, generate_typical_days, profile_table

if __name__ == "__main__":
    path = Path(__file__).resolve().parents[2] / "fdnmoo" / "scenarios" / "data" / PROFILE_FILE
    profile_table(generate_typical_days()).to_csv(path, index=False)
    print(f"wrote {path}")
