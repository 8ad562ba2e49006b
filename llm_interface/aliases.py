"""Model aliases: ``default``, ``large``, ``small``, ``agent`` (chat) and ``default``, ``large``, ``small``
(embeddings), per provider.

Three layers, later ones win: the ``aliases.json`` shipped in the package; a project's own file
(``$LLM_INTERFACE_ALIASES`` if set, else ``./aliases.json`` in the working directory); and
``set_model_alias`` / ``set_embeddings_model_alias`` at run time. A project file has the shipped
file's shape: ``{"huggingface": {"chat": {"default": "..."}, "embeddings": {...}}}``.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Dict, Optional

from .errors import ConfigurationError, UnknownModelError

KINDS = ("chat", "embeddings")
ENV_VAR = "LLM_INTERFACE_ALIASES"

Table = Dict[str, Dict[str, Dict[str, str]]]


def _read(path: Path) -> Table:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"Cannot read the alias file {path}: {exc}. Fix or remove it.") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ConfigurationError(
            f"The alias file {path} must map provider -> {{'chat': {{alias: model}}, 'embeddings': {{...}}}}."
        )
    for provider, kinds in data.items():
        for kind, table in kinds.items():
            bad = [a for a, m in table.items() if not isinstance(m, str) or not m] if isinstance(table, dict) else []
            if bad:
                raise ConfigurationError(
                    f"The alias file {path}: {provider}.{kind}.{bad[0]} must name a model id (a non-empty string), "
                    f"got {table[bad[0]]!r}. Fix or remove it."
                )
    return data


def _merge(base: Table, extra: Table) -> Table:
    merged = copy.deepcopy(base)
    for provider, kinds in extra.items():
        target = merged.setdefault(provider, {kind: {} for kind in KINDS})
        for kind, table in kinds.items():
            if kind not in KINDS or not isinstance(table, dict):
                raise ConfigurationError(f"Alias kind {kind!r} for {provider!r} is not one of {KINDS}.")
            target.setdefault(kind, {}).update(table)
    return merged


def _cwd() -> Optional[Path]:
    try:
        return Path.cwd()
    except FileNotFoundError:  # the working directory was deleted: there is no project file
        return None


def project_alias_file() -> Optional[Path]:
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigurationError(f"{ENV_VAR} points at {path}, which is not a file.")
        return path
    cwd = _cwd()
    local = cwd / "aliases.json" if cwd is not None else None
    return local if local is not None and local.is_file() else None


def write_alias(provider: str, alias: str, model: str, kind: str = "chat", path: Optional[str] = None) -> Path:
    """Add or change one alias in a project's alias file and return the file written.

    The file is ``path`` if given, else ``$LLM_INTERFACE_ALIASES``, else ``./aliases.json`` (``~`` expanded,
    as ``project_alias_file`` reads it); it is created if missing, and its other aliases are kept.
    """
    if kind not in KINDS:
        raise ConfigurationError(f"Alias kind {kind!r} is not one of {KINDS}.")
    if not all(isinstance(v, str) and v for v in (provider, alias, model)):
        raise ConfigurationError("A provider, an alias and its model must all be non-empty strings.")
    chosen = path or os.environ.get(ENV_VAR)
    if chosen:
        target = Path(chosen).expanduser()
    else:
        cwd = _cwd()
        if cwd is None:
            raise ConfigurationError("The working directory no longer exists; name the alias file to write.")
        target = cwd / "aliases.json"
    table = _read(target) if target.is_file() else {}
    table = _merge(table, {provider: {kind: {alias: model}}})
    try:
        target.write_text(json.dumps(table, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"Cannot write the alias file {target}: {exc}.") from exc
    return target


def load_aliases() -> Table:
    """The shipped table merged with the project's file, if any."""
    from importlib import resources  # lazy: only when the first alias is looked up, not at import

    shipped = json.loads(resources.files(__package__).joinpath("aliases.json").read_text(encoding="utf-8"))
    project = project_alias_file()
    return _merge(shipped, _read(project)) if project else shipped


class AliasTable:
    """The aliases one Client uses; loaded lazily, changed only through ``set``."""

    def __init__(self, table: Optional[Table] = None) -> None:
        self._table = table

    @property
    def table(self) -> Table:
        if self._table is None:
            self._table = load_aliases()
        return self._table

    def get(self, provider: str, alias: str, kind: str = "chat") -> Optional[str]:
        return self.table.get(provider, {}).get(kind, {}).get(alias)

    def set(self, provider: str, alias: str, model: str, kind: str = "chat") -> None:
        if not isinstance(alias, str) or not alias or not isinstance(model, str) or not model:
            raise ConfigurationError("An alias and its model must both be non-empty strings.")
        self.table.setdefault(provider, {k: {} for k in KINDS}).setdefault(kind, {})[alias] = model

    def all(self) -> Table:
        return copy.deepcopy(self.table)

    def resolve(self, provider: str, model: Optional[str], kind: str = "chat") -> str:
        """The model id for ``model``; None means the ``default`` alias.

        The JS library's rule: a configured alias is an alias, any other name is a model id and goes out as
        given (``gpt2``, ``bert-base-uncased`` are Hub ids). A name the server does not know is its 404
        (NotFoundError), not a guess made here.
        """
        name = model or "default"
        found = self.get(provider, name, kind)
        if found:
            return found
        if model is None:
            raise UnknownModelError(
                f"No model given and no 'default' {kind} alias for {provider!r}; pass options={{'model': ...}} "
                f"or set one with set_{'embeddings_' if kind == 'embeddings' else ''}model_alias.",
                provider=provider,
            )
        return name
