"""Spec files written for the experiment tests."""

import textwrap


def write_spec(tmp_path, text, name="spec.yaml"):
    """Write ``text`` (dedented) to ``tmp_path / name`` and return the path."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path
