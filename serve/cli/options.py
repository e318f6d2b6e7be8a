"""Options shared by several commands, built from the settings models so help and defaults live once.

A flag left out is ``None``, never its default: the settings then take a ``RAGPILOT_*`` variable or
the field's own default (llama-cpp-python's server derives its flags the same way).
"""

from __future__ import annotations

import types
import typing

import click
from pydantic import BaseModel

from ...indexer.settings import IndexSettings
from .quick_options import (  # noqa: F401 - re-exported: one definition for every command
    find_repo_root,
    index_dir_option,
    nonempty_path,
    nonempty_paths,
    repo_argument,
    repo_paths_argument,
)


def field_help(model: type[BaseModel], name: str) -> str:
    """A field's description, plus its default when it has a plain one."""
    info = model.model_fields[name]
    text = info.description or ""
    default = info.default
    if info.default_factory is None and default is not None and default is not ... and not isinstance(default, bool):
        shown = f"{default:,}" if isinstance(default, int) and default >= 10_000 else str(default)
        text = f"{text.removesuffix('.')} (default {shown})." if text else f"Default {shown}."
    return text


def _click_type(model: type[BaseModel], name: str) -> click.ParamType | None:
    """IntRange / FloatRange from the field's ``ge``/``le`` bounds, so the CLI refuses what the model would."""
    info = model.model_fields[name]
    kind = info.annotation
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        kind = next((a for a in typing.get_args(kind) if a is not type(None)), kind)
    low = high = None
    for rule in info.metadata:
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    if kind is int:
        return click.IntRange(low, high)
    if kind is float:
        return click.FloatRange(low, high)
    return None


def setting_option(model: type[BaseModel], name: str, *decls: str, **kwargs):
    """A click option for settings field ``name``: flag ``--name-with-dashes`` unless ``decls`` are given;
    help text, default and value range come from the field. ``kwargs`` override anything."""
    flags = decls or (f"--{name.replace('_', '-')}",)
    options = {"help": field_help(model, name), "default": None}
    kind = _click_type(model, name)
    if kind is not None:
        options["type"] = kind
    options.update(kwargs)
    return click.option(*flags, **options)


def embedder_options(f):
    """Flags shared by every command that may build an embedder. The machine-level ones (workers,
    device) go straight into the context object that :func:`index_settings` reads, so the commands'
    own signatures need not list them."""
    f = setting_option(IndexSettings, "embedder")(f)
    f = setting_option(IndexSettings, "embed_model")(f)
    f = setting_option(IndexSettings, "embed_url")(f)
    f = setting_option(IndexSettings, "embed_threads", expose_value=False, callback=_into_obj)(f)
    f = setting_option(IndexSettings, "embed_device", expose_value=False, callback=_into_obj,
                       type=click.Choice(["auto", "cpu", "cuda"], case_sensitive=False))(f)
    return f


def _into_obj(ctx: click.Context, param: click.Parameter, value):
    if value is not None:
        ctx.ensure_object(dict)[param.name] = value
    return value


def index_settings(ctx_obj: dict, **overrides) -> IndexSettings:
    """IndexSettings from the flags given (``None`` = not given)."""
    values = {k: v for k, v in {**ctx_obj, **overrides}.items() if v is not None}
    return IndexSettings(**values)
