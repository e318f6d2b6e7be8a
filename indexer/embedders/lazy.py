"""Import heavy optional libraries on first use, naming the pip extra when one is missing."""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

from ..errors import MissingExtraError, ModelLoadError

log = logging.getLogger(__name__)


def require(module: str, *, package: str, extra: str, purpose: str) -> ModuleType:
    """``import module`` or raise :class:`MissingExtraError` telling the user which extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        log.debug("import of %s failed: %s", module, err)
        raise MissingExtraError(package, extra, purpose) from err


def require_base(module: str, *, package: str, purpose: str) -> ModuleType:
    """Import a base dependency; if it is missing the install is broken, so say reinstall."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ModelLoadError(
            f"{purpose} needs the '{package}' package, a base dependency of ragpilot: "
            f"reinstall with pip install --force-reinstall ragpilot ({err})"
        ) from err
