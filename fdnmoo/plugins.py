"""User modules that register objectives, constraints or gene blocks: import them anywhere.

A plug-in is named by a module name (``"my_objectives"``, importable from
``sys.path``) or by the path of a ``.py`` file. :func:`import_plugins`
imports a list of them and is idempotent:

* a module name goes through :func:`importlib.import_module` (imported once);
* a file is imported under a name derived from its resolved path
  (``fdnmoo_plugin_<stem>_<hash>``), at most once per process;
* a file already imported under another name (as a module of ``sys.path``,
  as a path plug-in, or as the script ``__main__``) is not executed again,
  whichever way it is named the second time. The registries refuse
  duplicate names, so executing a plug-in twice would fail.

Workers of a parallel evaluation receive only a problem config; they import
its plug-ins, and the modules that defined the registry entries it uses
(:func:`module_origin`), before they rebuild the problem.

The defining module of an entry (its function's or class's ``__module__``)
is carried to other processes as :func:`module_origin` says: an importable
module by its name (and its file, imported instead if the other process
cannot find the name); a plug-in file, or a script run as ``__main__``, by its
file path (a script imported by path under another name skips its
``if __name__ == "__main__":`` part, as multiprocessing does with spawned
workers). Code typed into an interactive session has no file and cannot be
re-imported: put it in a module or ``.py`` file.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Iterable

__all__ = ["PluginError", "import_origin", "import_plugin", "import_plugins", "is_path",
           "module_origin", "resolve_plugin"]

_LOCK = threading.RLock()
#: name given to an imported plug-in file -> its resolved path
_FILES: dict[str, str] = {}


class PluginError(ImportError):
    """A plug-in that cannot be imported; ``plugin`` is the name or path given."""

    def __init__(self, plugin: str, message: str) -> None:
        self.plugin, self.reason = plugin, message
        super().__init__(f"cannot import plug-in {plugin!r}: {message}")

    def __reduce__(self):  # raised in workers, re-raised in the main process
        return type(self), (self.plugin, self.reason)


def is_path(plugin: str) -> bool:
    """Whether ``plugin`` names a file (ends in ``.py`` or contains a path separator)."""
    return plugin.endswith(".py") or "/" in plugin or "\\" in plugin


def resolve_plugin(plugin: str, base_dir: str | Path | None = None) -> str:
    """A module name unchanged; a file path made absolute (relative to ``base_dir``)."""
    if not is_path(plugin):
        return plugin
    path = Path(plugin).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return str(path.resolve())


def _imported_file(path: Path) -> ModuleType | None:
    """A module of ``sys.modules`` loaded from ``path``, if any."""
    for name, file in _FILES.items():  # the usual case first: a plug-in imported by path
        if file == str(path) and name in sys.modules:
            return sys.modules[name]
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file:
            try:
                if Path(file).resolve() == path:
                    return module
            except OSError:
                continue
    return None


def import_plugin(plugin: str) -> ModuleType:
    """Import one plug-in (module name or ``.py`` path) once per process.

    Raises
    ------
    PluginError
        Not found, or the module raised while being imported (the message
        gives the exception).
    """
    with _LOCK:
        if not is_path(plugin):
            try:
                if plugin not in sys.modules:  # its file may be imported by path already
                    spec = importlib.util.find_spec(plugin)
                    origin = getattr(spec, "origin", None)
                    done = _imported_file(Path(origin).resolve()) if origin and \
                        Path(origin).is_file() else None
                    if done is not None:
                        return done
                return importlib.import_module(plugin)
            except Exception as exc:
                raise PluginError(plugin, f"{type(exc).__name__}: {exc}") from exc
        path = Path(plugin).expanduser().resolve()
        if not path.is_file():
            raise PluginError(plugin, "no such file")
        module = _imported_file(path)
        if module is not None:
            return module
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:10]
        name = f"fdnmoo_plugin_{''.join(c if c.isalnum() else '_' for c in path.stem)}_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise PluginError(plugin, "not a Python source file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        _FILES[name] = str(path)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            del _FILES[name]
            raise PluginError(plugin, f"{type(exc).__name__}: {exc}") from exc
        return module


def import_plugins(plugins: Iterable[str]) -> list[ModuleType]:
    """Import every plug-in of ``plugins`` (see :func:`import_plugin`), in order."""
    return [import_plugin(p) for p in plugins]


def module_origin(module_name: str) -> tuple[str, str]:
    """How another process imports the module called ``module_name`` (see module docstring).

    Returns
    -------
    (name, file) : tuple of str
        ``name`` to import by (``""`` for a plug-in file or a script run as
        ``__main__``) and the module's resolved file (``""`` if it has none);
        both empty for code typed into an interactive session.
    """
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    file = str(Path(file).resolve()) if file else ""
    if module_name in _FILES:
        return "", _FILES[module_name]
    if module_name in ("__main__", "__mp_main__"):
        return "", file
    return module_name, file


def import_origin(origin: tuple[str, str]) -> ModuleType | None:
    """Import a module recorded by :func:`module_origin`: by name, else by its file.

    The file is the fallback for a module that this process cannot find by
    name (a worker started before the module's folder joined ``sys.path``,
    or running in another directory).
    """
    name, file = origin
    if name:
        try:
            return import_plugin(name)
        except PluginError:
            if not file or not Path(file).is_file():
                raise
    return import_plugin(file) if file else None
