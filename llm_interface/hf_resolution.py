"""Provider resolution's one piece of I/O: a model's ``inferenceProviderMapping`` fetched from the Hub, cached.

The call that resolves a model costs one Hub request; later calls in the process read it from memory (per Hub
base URL and model, for ``MAPPING_TTL`` seconds), and with a cache configured on the client the mapping is
also stored there (same TTL), so a fresh process with a files/sqlite/redis cache needs no Hub request either.
The mapping holds no secret: the cache key is the Hub URL and the model id. Choosing from the mapping is
``providers/hf_hub_mapping.py`` (pure).
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from . import redact
from .cache import CacheBackend
from .cache_policy import guarded
from .hf_hub import hub_url
from .plan import Plan
from .providers import hf_hub_mapping as mapping_rules
from .providers.hf_hub_mapping import ProviderMapping
from .wire import Context

MAPPING_TTL = 600.0  # seconds: a provider going live or down shows within ten minutes
GetJson = Callable[[str, Mapping[str, str], Context, Any], Any]

# Per process: (hub base, model) -> (expires at, mapping). Shared by every client, as huggingface_hub's lru_cache.
_MEMORY: Dict[Tuple[str, str], Tuple[float, Tuple[ProviderMapping, ...]]] = {}
_LOCK = threading.Lock()


def forget() -> None:
    """Drop the per-process mappings (tests; a user who just changed their provider order on the Hub)."""
    with _LOCK:
        _MEMORY.clear()


class ProviderResolver:
    """Resolves ``provider="auto"`` (and checks a named provider) for one client."""

    def __init__(self, get_json: GetJson, cache: Callable[[], Optional[CacheBackend]]) -> None:
        self._get_json = get_json
        self._cache = cache

    def mapping(self, model: str, api_key: Optional[str]) -> Tuple[ProviderMapping, ...]:
        key = (hub_url(), model)
        now = time.monotonic()
        with _LOCK:
            held = _MEMORY.get(key)
        if held is not None and held[0] > now:
            return held[1]
        found = self._from_cache(key)
        if found is None:
            headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
            body = self._get_json(mapping_rules.mapping_url(model), headers, Context("huggingface", model, api_key), 10)
            found = mapping_rules.parse_mapping(body, model)
            self._to_cache(key, found)
        with _LOCK:
            _MEMORY[key] = (now + MAPPING_TTL, found)
        return found

    def resolve(self, plan: Plan) -> Plan:
        """The plan with its request bound to the provider that serves it (a typed error if none does)."""
        request = plan.request
        if not mapping_rules.needs_mapping(request):
            return plan
        model, _ = mapping_rules.asked_provider(request)
        chosen = mapping_rules.choose(self.mapping(model, request.api_key), request)
        return plan._replace(request=mapping_rules.resolved(request, chosen))

    # -- the configured cache -------------------------------------------------------------------

    @staticmethod
    def _cache_key(key: Tuple[str, str]) -> str:
        # Backends take hex digests only (a key is never a path); the Hub URL and the model id, no secret.
        return hashlib.sha256(f"hf-provider-mapping\n{key[0]}\n{key[1]}".encode()).hexdigest()

    def _from_cache(self, key: Tuple[str, str]) -> Optional[Tuple[ProviderMapping, ...]]:
        cache = self._cache()
        if cache is None:
            return None
        entry = guarded(cache, cache.get, self._cache_key(key))  # a broken cache only costs the Hub request
        if not isinstance(entry, dict) or not isinstance(entry.get("mapping"), list):
            return None
        return mapping_rules.parse_mapping({"inferenceProviderMapping": entry["mapping"]}, key[1])

    def _to_cache(self, key: Tuple[str, str], found: Tuple[ProviderMapping, ...]) -> None:
        cache = self._cache()
        if cache is None:
            return
        # Scrubbed: a Hub quoting the key back in a mapping must not get it into a cache file on disk.
        entry = redact.scrub_value({"mapping": [m.as_dict() for m in found]})
        guarded(cache, cache.set, self._cache_key(key), entry, MAPPING_TTL)
