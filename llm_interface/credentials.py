"""Where API keys and base URLs come from: one documented order, the same for every task.

Key, first found wins:
  1. the ``api_key`` option of the call;
  2. ``set_api_key`` on the Client (or LLMInterface);
  3. environment variables (for Hugging Face: HUGGINGFACE_API_KEY, HF_TOKEN, HUGGINGFACE_TOKEN,
     HUGGING_FACE_HUB_TOKEN);
  4. the same names in a ``.env`` file in the working directory (read, never written into os.environ);
  5. the Hugging Face token file: $HF_TOKEN_PATH, else $HF_HOME/token, else ~/.cache/huggingface/token.

Base URL: the ``api_base`` option > HUGGINGFACE_API_BASE / HF_API_BASE (environment, then .env) > the router.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

KEY_ENV_VARS: Dict[str, Tuple[str, ...]] = {
    "huggingface": ("HUGGINGFACE_API_KEY", "HF_TOKEN", "HUGGINGFACE_TOKEN", "HUGGING_FACE_HUB_TOKEN"),
    "openai-compatible": ("OPENAI_COMPATIBLE_API_KEY",),
}
BASE_ENV_VARS: Dict[str, Tuple[str, ...]] = {
    "huggingface": ("HUGGINGFACE_API_BASE", "HF_API_BASE"),
    "openai-compatible": ("OPENAI_COMPATIBLE_API_BASE",),
}

# The named OpenAI-wire providers (providers/openai_family.py): the JS package's variable first
# (src/utils/loadApiKeysFromEnv.js), then the vendor's own where it differs. Base URLs: <NAME>_API_BASE.
_NAMED_KEYS: Dict[str, Tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "togetherai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
    "fireworksai": ("FIREWORKSAI_API_KEY", "FIREWORKS_API_KEY"),
    "deepinfra": ("DEEPINFRA_API_KEY",),
    "mistralai": ("MISTRALAI_API_KEY", "MISTRAL_API_KEY"),
    "perplexity": ("PERPLEXITY_API_KEY",),
    "nvidia": ("NVIDIA_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "anyscale": ("ANYSCALE_API_KEY",),
    "novitaai": ("NOVITAAI_API_KEY",),
    "monsterapi": ("MONSTERAPI_API_KEY",),
    "octoai": ("OCTOAI_API_KEY",),
    "friendliai": ("FRIENDLIAI_API_KEY",),
    "forefront": ("FOREFRONT_API_KEY",),
    "shuttleai": ("SHUTTLEAI_API_KEY",),
    "thebai": ("THEBAI_API_KEY",),
    "hyperbeeai": ("HYPERBEEAI_API_KEY",),
    "aimlapi": ("AIMLAPI_API_KEY",),
    "ailayer": ("AILAYER_API_KEY",),
    "neetsai": ("NEETSAI_API_KEY",),
    "zhipuai": ("ZHIPUAI_API_KEY", "ZHIPUAIL_API_KEY"),  # the second: the JS package's spelling
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "ollama": ("OLLAMA_API_KEY",),
    "llamacpp": ("LLAMACPP_API_KEY",),
}
KEY_ENV_VARS.update(_NAMED_KEYS)
BASE_ENV_VARS.update({name: (name.upper() + "_API_BASE",) for name in _NAMED_KEYS})


_DOTENV_CACHE: Dict[Tuple[str, int, int], Dict[str, str]] = {}
_TOKEN_CACHE: Dict[Tuple[str, int, int], Optional[str]] = {}


def _by_stat(path: str, cache: Dict[Tuple[str, int, int], Any], parse: Callable[[str], Any], missing: Any) -> Any:
    """``parse(path)``, parsed again only when the file changes (path, st_mtime_ns, st_size): both files
    are looked at on every call, so this is on the hot path (os.stat, not pathlib, for the same reason).
    ``missing`` when the file does not exist or cannot be read."""
    try:
        stat = os.stat(path)
    except OSError:
        return missing
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key in cache:
        return cache[key]
    try:
        value = parse(path)
    except OSError:
        return missing
    cache.clear()  # one file at a time is enough
    cache[key] = value
    return value


def _parse_dotenv(path: str) -> Dict[str, str]:
    from dotenv import dotenv_values  # only when a .env exists

    return {k: v for k, v in dotenv_values(path).items() if v}


def _dotenv() -> Dict[str, str]:
    """``./.env`` as a dict; nothing when there is no working directory (it was deleted)."""
    try:
        path = os.path.join(os.getcwd(), ".env")
    except OSError:
        return {}
    return _by_stat(path, _DOTENV_CACHE, _parse_dotenv, {})


def _read_token(path: str) -> Optional[str]:
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip() or None


def _from_env(names: Tuple[str, ...]) -> Optional[str]:
    for name in names:
        value = os.environ.get(name)
        if value and value.strip():
            return value.strip()
    if names:
        dotenv = _dotenv()
        for name in names:
            if dotenv.get(name, "").strip():
                return dotenv[name].strip()
    return None


def hf_token_file() -> Path:
    explicit = os.environ.get("HF_TOKEN_PATH")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser() / "token"
    return Path.home() / ".cache" / "huggingface" / "token"


def find_api_key(provider: str, explicit: Optional[str], configured: Dict[str, str]) -> Optional[str]:
    """The key for ``provider`` by the order in this module's docstring, or None."""
    if explicit:
        return explicit
    if configured.get(provider):
        return configured[provider]
    key = _from_env(KEY_ENV_VARS.get(provider, ()))
    if key:
        return key
    if provider == "huggingface":
        return _by_stat(os.fspath(hf_token_file()), _TOKEN_CACHE, _read_token, None)
    return None


def key_source(provider: str, configured: Dict[str, str]) -> Optional[str]:
    """Where ``find_api_key`` finds the key for ``provider`` (no ``api_key`` option), in words; None if
    nowhere. ``llm-interface doctor`` says it; the key itself is never part of the answer."""
    if configured.get(provider):
        return "set_api_key"
    names = KEY_ENV_VARS.get(provider, ())
    for name in names:
        if (os.environ.get(name) or "").strip():
            return f"the environment variable {name}"
    dotenv = _dotenv() if names else {}
    for name in names:
        if dotenv.get(name, "").strip():
            return f"{name} in ./.env"
    if provider == "huggingface" and _by_stat(os.fspath(hf_token_file()), _TOKEN_CACHE, _read_token, None):
        return f"the token file {hf_token_file()}"
    return None


def find_api_base(provider: str, explicit: Optional[str]) -> Optional[str]:
    if explicit:
        return explicit
    return _from_env(BASE_ENV_VARS.get(provider, ()))


def how_to_set_key(provider: str) -> str:
    names = ", ".join(KEY_ENV_VARS.get(provider, ()))
    ways = [
        "pass options={'api_key': ...}",
        f"call LLMInterface.set_api_key({{'{provider}': ...}})",
    ]
    if names:
        ways.append(f"set one of the environment variables {names} (or put it in ./.env)")
    if provider == "huggingface":
        ways.append(f"log in with `hf auth login` (token file {hf_token_file()})")
    return "; ".join(ways)


@functools.lru_cache(maxsize=256)  # asked on every cached call; a process holds few keys
def fingerprint(key: Optional[str]) -> str:
    """A one-way fingerprint of a key: scopes cache entries per tenant without storing the key."""
    import hashlib

    if not key:
        return "anonymous"
    return hashlib.sha256(b"llm_interface:" + key.encode("utf-8")).hexdigest()[:16]
