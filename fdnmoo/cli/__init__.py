"""Command-line interface: ``fdnmoo cases``, ``fdnmoo pf``, ``fdnmoo bench``."""

from .app import main

__all__ = ["main"]
