"""Every package folder of the source tree is listed in setup.cfg, so that a regular
(non-editable) install has all of them."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_setup_cfg():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    options = config["options"]
    listed = set(options["packages"].split())
    roots = dict(line.split("=") for line in options["package_dir"].strip().splitlines())
    found = set()
    for package, folder in ((k.strip(), v.strip()) for k, v in roots.items()):
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            parts = init.parent.relative_to(base).parts
            found.add(".".join((package, *parts)))
    assert found - listed == set(), f"package folders missing from setup.cfg: {found - listed}"
    assert listed - found == set(), f"setup.cfg lists packages without a folder: {listed - found}"
