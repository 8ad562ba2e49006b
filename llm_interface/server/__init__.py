"""The OpenAI-compatible proxy (extra ``[server]``: FastAPI, uvicorn, PyYAML).

    llm-interface serve --config config.yaml          # or, in Python:
    from llm_interface.server import ProxyConfig, create_app, serve
    serve(ProxyConfig.load("config.yaml"))

Importing this package imports no optional dependency; ``create_app`` and ``serve`` do.
"""

from __future__ import annotations

from typing import Any, Optional

from .config import ModelRoute, ProxyConfig


def create_app(config: ProxyConfig, client: Any = None) -> Any:
    from .app import create_app as build

    return build(config, client)


def serve(config: ProxyConfig, host: Optional[str] = None, port: Optional[int] = None, log_level: str = "info") -> None:
    """Run the proxy with uvicorn until interrupted; binds to the config's host (127.0.0.1 by default)."""
    try:
        import uvicorn
    except ImportError as exc:
        from ..errors import MissingDependencyError

        raise MissingDependencyError('The proxy needs its extra: pip install "llm-interface-hf[server]"') from exc
    uvicorn.run(create_app(config), host=host or config.host, port=port or config.port, log_level=log_level)


__all__ = ["ModelRoute", "ProxyConfig", "create_app", "serve"]
