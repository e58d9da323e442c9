"""Logging of the command line: one handler on the ``fdnmoo`` logger, none on the root.

The library only creates loggers (``logging.getLogger(__name__)`` under
``fdnmoo``) and never configures them; the command line adds one stderr
handler to the ``fdnmoo`` logger and sets its level from ``-v`` / ``--quiet``:

=============  =========  ======================================
flag           level      shown
=============  =========  ======================================
``--quiet``    WARNING    warnings and errors; no progress bars
(none)         INFO       progress bars and info messages
``-v``         DEBUG      also debug messages (timings, files)
=============  =========  ======================================
"""

from __future__ import annotations

import logging
import sys

__all__ = ["LOGGER_NAME", "configure_logging"]

LOGGER_NAME = "fdnmoo"


def configure_logging(verbose: bool = False, quiet: bool = False) -> logging.Logger:
    """Set the ``fdnmoo`` logger's level and its one stderr handler.

    Calling it again (several ``main()`` calls in one process) replaces the
    handler instead of adding another. The root logger is left alone.
    """
    if verbose and quiet:
        raise ValueError("-v/--verbose and -q/--quiet exclude each other")
    logger = logging.getLogger(LOGGER_NAME)
    for old in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(old)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"
                                           if verbose else "%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    return logger


class _StderrHandler(logging.StreamHandler):
    """A stream handler writing to the current ``sys.stderr``.

    The stream is looked up at every record, so that a replaced ``sys.stderr``
    (pytest's capture, a notebook) is the one written to.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass
