"""The OpenAI-compatible proxy (extra ``[server]``: FastAPI, uvicorn, PyYAML).

    llm-interface serve --config config.yaml          # or, in Python:
    from llm_interface.server import ProxyConfig, create_app, serve
    serve(ProxyConfig.load("config.yaml"))

Importing this package imports no optional dependency; ``create_app`` and ``serve`` do.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from .config import ModelRoute, ProxyConfig


def create_app(config: ProxyConfig, client: Any = None) -> Any:
    from .app import create_app as build

    return build(config, client)


CONFIG_ENV = "LLM_INTERFACE_PROXY_CONFIG"


def app_from_env() -> Any:
    """App factory for worker processes (``uvicorn --factory llm_interface.server:app_from_env``):
    each worker loads the config named by $LLM_INTERFACE_PROXY_CONFIG."""
    import os

    return create_app(ProxyConfig.load(os.environ[CONFIG_ENV]))


def serve(config: ProxyConfig, host: Optional[str] = None, port: Optional[int] = None, log_level: str = "info",
          *, workers: int = 1, config_path: Optional[str] = None) -> None:
    """Run the proxy with uvicorn until interrupted; binds to the config's host (127.0.0.1 by default).

    ``workers`` > 1 starts that many processes (each with its own Client: configure a Redis cache and
    rate limit so they share them); it needs ``config_path`` so each worker can load the config.
    """
    try:
        import uvicorn
    except ImportError as exc:
        from ..errors import MissingDependencyError

        raise MissingDependencyError('The proxy needs its extra: pip install "llm-interface-hf[server]"') from exc
    where: Dict[str, Any] = dict(host=host or config.host, port=port or config.port, log_level=log_level)
    if workers > 1:
        import os

        if config_path is None:
            from ..errors import ConfigurationError

            raise ConfigurationError("Several workers need the config file's path (config_path) to load it each.")
        os.environ[CONFIG_ENV] = str(config_path)
        uvicorn.run("llm_interface.server:app_from_env", factory=True, workers=workers, **where)
    else:
        uvicorn.run(create_app(config), **where)


__all__ = ["ModelRoute", "ProxyConfig", "app_from_env", "create_app", "serve"]
