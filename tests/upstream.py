"""Kept for ``from upstream import Upstream`` and ``python tests/upstream.py`` (benchmarks/bench_proxy.py): the
fake Hugging Face upstream lives in ``tests/support/upstream.py``."""

from support.upstream import ERRORS, Upstream, hf_routes, main  # noqa: F401

if __name__ == "__main__":  # pragma: no cover
    main()
