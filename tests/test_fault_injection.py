"""Fault injection: 1,000 calls through every kind of fault, on loopback, bounded in count and time.

Each call gets its own scripted sequence of answers (one per attempt): 429 + Retry-After, 503 +
estimated_time, 429 + RateLimit, 500/502, connection resets, stalls past the timeout, truncated streams,
the 4xx that must never be retried (401, 402, 422), and 200s that cannot be read: a wrong-shaped body,
an HTML page and a 200 ``{"error"}``, both quoting the caller's key back. From the script the test knows what must come
out of every call: the echoed answer with the exact retry count, or the right typed error with its
attempts. Nothing wrong may be cached, no error may carry the key, and no call may outlive its
attempts' timeouts.

Run ``python tests/test_fault_injection.py`` for the figures reported in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import random
import re
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Tuple

import pytest
from support.loopback import LoopbackServer, Reply, Reset, Stall, Status, Truncate

from llm_interface import Client, errors

CALLS = 1000
RETRIES = 2
TIMEOUT = 0.4  # seconds: a stall lasts longer than this
WORKERS = 8
SEED = 20240611

RETRYABLE = {
    "429 retry-after": (Status(429, {"error": "Rate limit reached"}, {"Retry-After": "0"}), errors.RateLimitError),
    "429 ratelimit": (Status(429, {"error": "slow down"}, {"RateLimit": '"api";r=0;t=0'}), errors.RateLimitError),
    "429 x-ratelimit": (Status(429, {"error": "slow down"}, {"x-ratelimit-remaining-requests": "0",
                                                           "x-ratelimit-reset-requests": "0s"}), errors.RateLimitError),
    "503 loading": (Status(503, {"error": "Model is currently loading", "estimated_time": 0.0}), errors.ModelLoadingError),
    "500": (Status(500, {"error": "boom"}), errors.ServerError),
    "502": (Status(502, "<html>bad gateway</html>"), errors.ServerError),
    "reset": (Reset(), errors.ConnectionError),
    "stall": (Stall(TIMEOUT * 3), errors.TimeoutError),
}
FATAL = {
    "401": (Status(401, {"error": "Invalid credentials"}), errors.AuthenticationError),
    "402": (Status(402, {"error": "You have exceeded your monthly included credits"}), errors.PaymentRequiredError),
    "422": (Status(422, {"error": "Input validation error"}), errors.ValidationError),
}


KEY = "hf_test_fake_key_faults"
# A 200 that cannot be read is not retried (the same body would come back): an InvalidResponseError, or
# ServerError for a 200 {"error"}; asked for a stream, any answer that is not SSE is a StreamError.
BAD_200 = {
    "200 wrong shape": (Status(200, {"choices": ["x"]}), errors.InvalidResponseError),
    "200 html quoting the key": (Status(200, f"<html>login failed for {KEY}</html>"), errors.InvalidResponseError),
    "200 error quoting the key": (Status(200, {"error": f"Invalid token Bearer {KEY} ({KEY})"}), errors.ServerError),
}


def make_plans(seed: int = SEED, calls: int = CALLS) -> List[Dict[str, Any]]:
    """Per call: stream or not, the answers per attempt, and the outcome that must follow from them."""
    rng = random.Random(seed)
    plans = []
    for i in range(calls):
        stream = rng.random() < 0.25
        actions: List[Tuple[str, Any]] = []
        expected: Any = None
        for attempt in range(RETRIES + 1):
            roll = rng.random()
            if roll < 0.45:
                actions.append(("ok", Reply()))
                expected = ("ok", attempt)
                break
            if roll < 0.53:
                name = rng.choice(sorted(FATAL))
                actions.append((name, FATAL[name][0]))
                expected = ("error", FATAL[name][1], attempt)
                break
            if roll < 0.57:
                name = rng.choice(sorted(BAD_200))
                actions.append((name, BAD_200[name][0]))
                expected = ("error", errors.StreamError if stream else BAD_200[name][1], attempt)
                break
            if stream and roll < 0.64:
                actions.append(("truncate", Truncate(events=1)))
                expected = ("error", errors.StreamError, attempt)
                break
            name = rng.choice(sorted(RETRYABLE))
            if name == "stall" and rng.random() < 0.5:
                name = "500"  # stalls cost real time: keep them to a share that bounds the suite
            actions.append((name, RETRYABLE[name][0]))
            expected = ("error", RETRYABLE[name][1], attempt)  # if this was the last attempt
        plans.append({"id": i, "stream": stream, "actions": actions, "expected": expected})
    return plans


CALL_ID = re.compile(r"call-(\d+)$")


def run_suite(plans: List[Dict[str, Any]], workers: int = WORKERS) -> Dict[str, Any]:
    attempts_seen: Counter = Counter()
    lock = threading.Lock()

    def responder(recorded):
        content = (recorded.body or {}).get("messages", [{}])[-1].get("content", "")
        match = CALL_ID.search(content)
        if not match:
            return None
        call = int(match.group(1))
        with lock:
            n = attempts_seen[call]
            attempts_seen[call] += 1
        actions = plans[call]["actions"]
        return actions[n][1] if n < len(actions) else Reply()

    outcomes: List[Dict[str, Any]] = [None] * len(plans)  # type: ignore[list-item]
    with LoopbackServer() as server:
        server.responder = responder
        client = Client(
            {"huggingface": KEY},
            interface_options={"retry_attempts": RETRIES, "retry_multiplier": 0.0, "max_retry_wait": 5},
        )
        client.configure_cache("memory", maxsize=4096)
        options = {"api_base": server.url, "timeout": TIMEOUT}

        def one(plan):
            started = time.perf_counter()
            text = f"call-{plan['id']}"
            try:
                if plan["stream"]:
                    with client.stream_message("huggingface", text, options) as stream:
                        result: Any = stream.collect()
                else:
                    result = client.send_message("huggingface", text, options)
            except errors.LLMInterfaceError as exc:
                result = exc
            outcomes[plan["id"]] = {"result": result, "elapsed": time.perf_counter() - started}

        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, plans))
        wall = time.perf_counter() - started
        requests_received = server.count

        # Second pass: every success is now a hit; nothing else was cached (errors are never stored).
        hits = 0
        misses_after_error = 0
        for plan, outcome in zip(plans, outcomes):
            entry = client.cache.get(client.plan("huggingface", "chat", f"call-{plan['id']}", options).cache_key)
            if isinstance(outcome["result"], errors.LLMInterfaceError):
                assert entry is None, f"call {plan['id']} failed but something was cached"
                misses_after_error += 1
            else:
                assert entry is not None and entry["data"]["results"] == f"echo: call-{plan['id']}"
                again = client.send_message("huggingface", f"call-{plan['id']}", options)
                assert again.cached and again.results == f"echo: call-{plan['id']}"
                hits += 1
        assert server.count == requests_received  # the hits never reached the server
        client.close()
    return {
        "outcomes": outcomes,
        "attempts_seen": attempts_seen,
        "wall": wall,
        "requests": requests_received,
        "hits": hits,
        "not_cached_errors": misses_after_error,
    }


def check(plans, report) -> Counter:
    """Every call ended as its script says; returns the tally of outcomes."""
    tally: Counter = Counter()
    for plan, outcome in zip(plans, report["outcomes"]):
        result, expected = outcome["result"], plan["expected"]
        call = plan["id"]
        if expected[0] == "ok":
            assert not isinstance(result, Exception), f"call {call} ({plan['actions']}) raised {result!r}"
            assert result.results == f"echo: call-{call}" and result.retries == expected[1] and not result.cached
            tally["ok"] += 1
        else:
            _, error_type, retries = expected
            assert type(result) is error_type, f"call {call} ({[a for a, _ in plan['actions']]}) gave {result!r}"
            if error_type is not errors.StreamError:
                assert result.retries == retries, f"call {call}: {result.retries} retries, expected {retries}"
            tally[error_type.__name__] += 1
            shown = str(result) + repr(result) + str(result.server_message) + str(result.body)
            assert KEY not in shown, f"call {call}: the key reached the error"
        assert report["attempts_seen"][call] == len(plan["actions"]), f"call {call}: wrong number of requests"
        # No hang, held by behaviour rather than a stopwatch: a stall hangs up after TIMEOUT * 3 without an
        # answer, so a timeout that did not fire ends the call as a ConnectionError, not the TimeoutError the
        # type check above asks for; a call that never ends trips the test's own timeout.
    return tally


@pytest.mark.timeout(120)
def test_one_thousand_calls_through_faults():
    plans = make_plans()
    kinds = Counter(name for plan in plans for name, _ in plan["actions"])
    assert set(kinds) == {"ok", "truncate", *RETRYABLE, *FATAL, *BAD_200}  # every kind of fault is exercised
    report = run_suite(plans)
    tally = check(plans, report)
    assert sum(tally.values()) == CALLS
    assert report["requests"] == sum(len(plan["actions"]) for plan in plans)


def main() -> None:
    plans = make_plans()
    report = run_suite(plans)
    tally = check(plans, report)
    kinds = Counter(name for plan in plans for name, _ in plan["actions"])
    elapsed = sorted(o["elapsed"] for o in report["outcomes"])
    print(f"calls: {CALLS} ({sum(p['stream'] for p in plans)} streamed), workers {WORKERS}, timeout {TIMEOUT}s, retries {RETRIES}")
    print(f"requests received by the server: {report['requests']}")
    print("answers scripted: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print("outcomes (all as scripted): " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    print(f"cached successes replayed: {report['hits']}; failed calls with nothing cached: {report['not_cached_errors']}")
    print(f"wall time: {report['wall']:.2f}s; call time median {elapsed[len(elapsed) // 2] * 1000:.1f} ms, max {elapsed[-1]:.2f}s")


if __name__ == "__main__":
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    main()
