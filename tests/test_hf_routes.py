"""The Hugging Face route table (issue 11, step 4): ``PROVIDERS[mode][task]`` -> a helper, resolved once per
provider hook; a new (provider, task) is one helper and one table line. Also the in-process hook's name and
a local model path that does not exist."""

from __future__ import annotations

import pytest
from conftest import FAKE_KEY

from llm_interface import Client, errors
from llm_interface.providers import hf_routes, hf_tasks
from llm_interface.providers.huggingface import HuggingFaceProvider
from llm_interface.providers.in_process import InProcessEngine
from llm_interface.request import Request
from llm_interface.types import EmbeddingResponse, Response
from llm_interface.wire import HttpResult

HI = ({"role": "user", "content": "hi"},)


def request(task="chat", **fields):
    inputs = {"chat": dict(messages=HI), "completion": dict(prompt="Say"), "embeddings": dict(inputs=["a"]),
              "classify": dict(inputs=["a"]), "rerank": dict(inputs={"query": "q", "documents": ["a"]})}[task]
    return Request(**{"provider": "huggingface", "task": task, "model": "org/m", **inputs, **fields})


# (what, request fields, mode, helper class, url)
ROUTES = [
    ("router chat", dict(), "router", hf_routes.Chat, "https://router.huggingface.co/v1/chat/completions"),
    ("hf-inference chat", dict(settings={"provider": "hf-inference"}), "hf-inference", hf_routes.Chat,
     "https://router.huggingface.co/hf-inference/models/org/m/v1/chat/completions"),
    ("endpoint chat", dict(api_base="http://tgi:8080"), "endpoint", hf_routes.Chat, "http://tgi:8080/v1/chat/completions"),
    ("endpoint generate", dict(task="completion", api_base="http://tgi:8080"), "endpoint", hf_routes.TGIGenerate,
     "http://tgi:8080/generate"),
    ("/v1 endpoint completions", dict(task="completion", api_base="http://vllm/v1"), "openai-endpoint",
     hf_routes.OpenAICompletions, "http://vllm/v1/completions"),
    ("hf-inference generate", dict(task="completion"), "hf-inference", hf_routes.HFInferenceGenerate,
     "https://router.huggingface.co/hf-inference/models/org/m"),
    ("feature-extraction", dict(task="embeddings"), "hf-inference", hf_routes.FeatureExtraction,
     "https://router.huggingface.co/hf-inference/models/org/m/pipeline/feature-extraction"),
    ("TEI embed", dict(task="embeddings", api_base="http://tei"), "endpoint", hf_routes.Embeddings, "http://tei/embed"),
    ("openai_format embeddings", dict(task="embeddings", api_base="http://tei", settings={"openai_format": True}),
     "openai-endpoint", hf_routes.OpenAIEmbeddings, "http://tei/v1/embeddings"),
    ("TEI predict", dict(task="classify", api_base="http://tei"), "endpoint", hf_routes.TEIPredict, "http://tei/predict"),
    ("TEI rerank", dict(task="rerank", api_base="http://tei"), "endpoint", hf_routes.TEIRerank, "http://tei/rerank"),
    ("sentence-similarity", dict(task="rerank"), "hf-inference", hf_routes.HFInferenceRerank,
     "https://router.huggingface.co/hf-inference/models/org/m/pipeline/sentence-similarity"),
    ("text-classification/ chat", dict(model="text-classification/org/m"), "hf-inference", hf_routes.ClassifyAsChat,
     "https://router.huggingface.co/hf-inference/models/org/m"),
]


@pytest.mark.parametrize("what,fields,mode,helper,url", ROUTES, ids=[case[0] for case in ROUTES])
def test_the_table_routes_each_mode_and_task(what, fields, mode, helper, url):
    req = request(**fields)
    route = hf_routes.resolve(req)
    # rerank/classify on an endpoint go through OnServer, which falls back to TEI's helper on a TEI server
    assert route.mode == mode and type(getattr(route.helper, "fallback", route.helper)) is helper
    assert HuggingFaceProvider().prepare(req).url == url


def test_a_request_is_resolved_once_for_all_its_hooks(monkeypatch):
    calls = []
    real = hf_routes.mode_of
    monkeypatch.setattr(hf_routes, "mode_of", lambda *a: calls.append(1) or real(*a))
    provider, req = HuggingFaceProvider(), request(api_base="http://tgi:8080", params={"response_format": {"type": "json_object"}})
    provider.supports(req)
    provider.prepare(req)
    assert len(calls) == 1
    provider.parse(req, HttpResult(200, {}, {"choices": [{"message": {"content": "x"}}]}, 0.0))
    assert len(calls) == 1
    other = request(api_base="http://tgi:8080/v1")  # another request (equal or not) is resolved again
    assert provider.prepare(other).url == "http://tgi:8080/v1/chat/completions"
    assert len(calls) == 2
    assert provider.prepare(req).url == "http://tgi:8080/v1/chat/completions"
    assert len(calls) == 3


def test_a_call_resolves_its_mode_once(monkeypatch, loopback):
    """Checking, preparing and parsing one send_message ask for the mode once, not once per hook."""
    from support.loopback import Reply

    calls = []
    real = hf_routes.mode_of
    monkeypatch.setattr(hf_routes, "mode_of", lambda *a: calls.append(1) or real(*a))
    loopback.script(Reply(), Reply())
    with Client({"huggingface": "hf_test_fake_key"}, interface_options={"retry_attempts": 0}) as client:
        for number in (1, 2):
            assert client.send_message("huggingface", "hi", {"api_base": loopback.url}).results
            assert len(calls) == number


def test_a_third_party_provider_without_a_row_serves_chat_only():
    with pytest.raises(errors.UnsupportedTaskError) as caught:
        hf_routes.resolve(request(task="embeddings", settings={"provider": "groq"}))
    assert "'groq'" in str(caught.value) and "which serves: chat)" in str(caught.value)
    assert "deepinfra, scaleway, together" in str(caught.value)  # who does serve it
    with pytest.raises(errors.UnsupportedTaskError, match="which serves: chat, generate"):
        hf_routes.resolve(request(task="embeddings", settings={"provider": "novita"}))


def test_our_mode_names_are_no_provider_rows():
    # provider="endpoint" without an api_base must not pick the endpoint row (it has no URL to go to)
    assert hf_routes.resolve(request(settings={"provider": "endpoint"})).mode == "router"


class TogetherEmbeddings(hf_routes.TaskHelper):
    """What issue 12 adds: one helper..."""

    task = "embeddings"

    def url(self, base, request):
        return base + "/v1/embeddings"

    def body(self, request, route):
        return hf_tasks.openai_embed_body(request, request.model)

    def parse(self, body, request, route, request_id, headers):
        return hf_tasks.parse_openai_embeddings(body, request, route.provider, request_id)


def test_a_provider_task_row_is_one_helper_and_one_table_line(monkeypatch):
    monkeypatch.setitem(hf_routes.PROVIDERS, "together", {"embeddings": TogetherEmbeddings()})  # ...and one line
    with Client(api_keys={"huggingface": FAKE_KEY}) as client:
        plan = client.plan("huggingface", "embeddings", ["a"], {"model": "BAAI/bge-m3", "provider": "together"})
        call = plan.provider.prepare(plan.request)
        answer = plan.provider.parse(plan.request, HttpResult(200, {}, {"data": [{"embedding": [0.5]}]}, 0.0))
    assert call.url == "https://router.huggingface.co/together/v1/embeddings"
    assert call.json["model"] == "BAAI/bge-m3" and "x-wait-for-model" not in call.retry_headers
    assert isinstance(answer, EmbeddingResponse) and answer.embeddings == [[0.5]]
    # chat on that provider still goes through the router
    assert hf_routes.resolve(request(settings={"provider": "together"})).mode == "router"


class CannedEngine(InProcessEngine):
    """An in-process engine that answers without a model: the protocol's hooks are ``compute`` and ``stream``."""

    tasks = frozenset({"chat", "completion"})

    def compute(self, request):
        return Response("computed: " + (request.prompt or request.messages[-1]["content"]), model=request.model,
                        provider=self.name, finish_reason="stop")


def test_in_process_engines_answer_through_compute_for_every_task_name(monkeypatch):
    monkeypatch.setattr(HuggingFaceProvider, "engine_for", lambda self, req: CannedEngine())
    with Client() as client:
        assert client.send_message("huggingface", "hi", {"model": "/models/x"}).results == "computed: hi"
        assert client.complete("huggingface", "say", {"model": "/models/x"}).results == "computed: say"


@pytest.mark.parametrize("model", ["/models/qwen2.5-0.5b-instruct", "./no-such-model", "~/no-such-model-here"])
def test_a_local_model_path_that_does_not_exist_says_so(model):
    with Client() as client:
        with pytest.raises(errors.ModelNotFoundError) as caught:
            client.send_message("huggingface", "hi", {"model": model})
    text = str(caught.value)
    assert model in text and "does not exist" in text and "Hub id" in text


def test_a_path_that_is_a_file_is_no_model_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with Client() as client:
        with pytest.raises(errors.ModelNotFoundError) as caught:
            client.send_message("huggingface", "hi", {"model": str(tmp_path / "notes.txt")})
    assert "it is a file" in str(caught.value)


def test_local_false_sends_a_path_like_name_to_the_server():
    with Client(api_keys={"huggingface": FAKE_KEY}) as client:
        plan = client.plan("huggingface", "chat", "hi", {"model": "/models/x", "local": False})
    assert not plan.provider.in_process
