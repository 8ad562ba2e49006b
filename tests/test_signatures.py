"""The facade and the async twins take exactly the parameters of the Client methods they wrap (names,
order, kinds, defaults), so that a parameter added to one cannot be forgotten in the others."""

from __future__ import annotations

import inspect

import pytest

from llm_interface import AsyncClient, Client, LLMInterface
from llm_interface.servers import tools as server_tools

# Facade-only methods (no Client method of that name to mirror).
FACADE_ONLY = {"reset", "async_client", "client"}


def parameters(function):
    """(name, kind, default) of every parameter but self/cls; annotations are left out (``Iterable`` and
    ``List`` for the same argument are both fine)."""
    signature = inspect.signature(function)
    return [(p.name, p.kind, p.default) for p in signature.parameters.values() if p.name not in ("self", "cls")]


def public_methods(cls):
    return sorted(
        name for name, value in vars(cls).items()
        if not name.startswith("_") and name not in FACADE_ONLY and isinstance(value, (classmethod, staticmethod))
        or (not name.startswith("_") and name not in FACADE_ONLY and inspect.isfunction(value))
    )


def client_method(name):
    return getattr(Client, name[: -len("_async")] if name.endswith("_async") else name)


# Layers over a client (servers/tools.py: introspection of self-hosted servers), called as f(client, ...):
# the facade mirrors the function less its ``client``; their ``_async`` forms mirror the sync ones.
LAYERED = {name for name in public_methods(LLMInterface) if hasattr(server_tools, name.removesuffix("_async"))}


@pytest.mark.parametrize("name", sorted(set(public_methods(LLMInterface)) - LAYERED))
def test_the_facade_mirrors_the_client(name):
    wrapped = getattr(AsyncClient, name) if name.endswith("_async") else getattr(Client, name)
    assert parameters(getattr(LLMInterface, name)) == parameters(wrapped)


@pytest.mark.parametrize("name", sorted(LAYERED))
def test_the_facade_mirrors_the_server_layer(name):
    layer = parameters(getattr(server_tools, name.removesuffix("_async")))
    assert layer[0][0] == "client"
    assert parameters(getattr(LLMInterface, name)) == layer[1:]


ASYNC_TWINS = sorted(name for name in vars(AsyncClient) if name.endswith("_async"))


def test_every_call_has_its_async_twin():
    calls = {"send_message", "stream_message", "complete", "stream_complete", "embeddings", "classify", "rerank",
             "send_messages"}
    assert {name[: -len("_async")] for name in ASYNC_TWINS} == calls


@pytest.mark.parametrize("name", ASYNC_TWINS)
def test_the_async_twins_mirror_the_client(name):
    assert parameters(getattr(AsyncClient, name)) == parameters(client_method(name))


def test_a_drifted_signature_is_caught():
    def drifted(provider, message, options=None):  # interface_options forgotten
        pass

    assert parameters(drifted) != parameters(Client.send_message)
