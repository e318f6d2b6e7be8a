"""``import lancedb`` without the REST namespace client it imports and ragpilot never uses.

lancedb 0.40 imports ``lance_namespace``, whose ``__init__`` imports the generated REST client package
``lance_namespace_urllib3_client``, whose own ``__init__`` imports every API class and model of the
OpenAPI spec: ~2 s of a bare ``import lancedb`` on an idle 2-core machine (13 s under load), paid by
every command that opens an index. ragpilot only opens local tables (``lancedb.connect(<folder>)``),
never a remote namespace, so that package's ``__init__`` is registered here as *deferred*: a real
package module (``__spec__``, ``__path__``) whose ``__init__`` runs on the first attribute asked of it.
Submodule imports (``lance_namespace_urllib3_client.models.x``, which lancedb and lance_namespace do
at import) still work and load only what they name; ``lance_namespace_urllib3_client.ApiClient``, or
anything else the package exports, loads the whole package first, exactly as before. Nothing changes
for lancedb except when that work happens.

Obsolete once lancedb ships with a ``lance-namespace`` that imports its REST client lazily (upstream
lance made the namespace client import lazy; lancedb 0.40 with lance-namespace 0.13 still imports it
eagerly): then :func:`import_lancedb` is a plain ``import lancedb`` and this module can go.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType

DEFERRED_PACKAGE = "lance_namespace_urllib3_client"

# LanceDB's Rust logger prints warnings straight to stderr, with Rust source paths ("/rustc/...");
# ragpilot reports what users can act on itself. LANCEDB_LOG=warn brings them back.
os.environ.setdefault("LANCEDB_LOG", "error")


def defer_package_init(name: str) -> ModuleType | None:
    """Put ``name`` in ``sys.modules`` as its package module with its ``__init__`` not yet run; the
    first attribute looked up on it (other than dunders) runs it. ``None`` when it is already imported
    or not installed (then there is nothing to save)."""
    if name in sys.modules:
        return None
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return None
    module = importlib.util.module_from_spec(spec)  # __name__, __spec__, __path__: submodules import

    def __getattr__(attr: str):  # PEP 562: only called for names the module does not have yet
        if attr.startswith("__"):
            raise AttributeError(f"module {name!r} has no attribute {attr!r}")
        module.__dict__.pop("__getattr__", None)
        spec.loader.exec_module(module)
        return getattr(module, attr)

    module.__getattr__ = __getattr__
    sys.modules[name] = module
    return module


def import_lancedb() -> ModuleType:
    """The ``lancedb`` module, imported without running the REST namespace client's ``__init__``."""
    if "lancedb" not in sys.modules:
        defer_package_init(DEFERRED_PACKAGE)
    return importlib.import_module("lancedb")


lancedb = import_lancedb()  # `from .lancedb_import import lancedb` in the modules that use it
