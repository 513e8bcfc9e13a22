"""Import Great Expectations without the libraries only its unused expectations need.

GX imports every expectation it ships when it is imported, and one of them (the KL
divergence, with the KS-test metrics) imports scipy.stats and altair at module level:
1.5 s of GX's 4 s import here, paid by every load that runs the checks, for
expectations no suite of ours uses. Those two modules are put in sys.modules as
stand-ins that import the real module the first time anything is asked of it, so a
suite that does use them still works, a little later.

Why not importlib.util.LazyLoader: on Python 3.11 the import statement itself reads the
module's __spec__, which makes LazyLoader load it at once.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types

DEFERRED = ("scipy.stats", "altair")


class DeferredModule(types.ModuleType):
    """Stands in sys.modules for a module until something other than the import machinery
    asks it for an attribute; then imports it and hands every attribute over from it."""

    def __init__(self, name: str, spec) -> None:
        super().__init__(name)
        self.__spec__ = spec  # what `import` reads: a spec not being initialised, so it returns us
        self._deferred_lock = threading.Lock()

    def __getattr__(self, attribute: str):
        return getattr(self._deferred_load(), attribute)

    def __dir__(self):
        return dir(self._deferred_load())

    def _deferred_load(self) -> types.ModuleType:
        name = self.__name__
        with self._deferred_lock:
            if sys.modules.get(name) is self:
                del sys.modules[name]
            return importlib.import_module(name)


def defer_unused_gx_imports() -> None:
    """Put the stand-ins in place unless the modules are imported already (or missing)."""
    for name in DEFERRED:
        if name in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None:
            sys.modules[name] = DeferredModule(name, spec)
