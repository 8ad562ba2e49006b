"""Every example of AbstractLLM's Hugging Face page (seed-docs 003), with only the import lines changed.

Inference-API examples run against recorded answers (``responses``) or the loopback TGI stand-in. The
local-model examples run in process on the tiny test model (tests/support/tiny_models.py), installed in a
temporary Hugging Face cache under the example's own Hub id (no weights can be downloaded here), and the
page's ``/path/to/model.gguf`` is the tiny GGUF file. What this CPU machine cannot do (``device="cuda"``,
4-bit / 8-bit quantization) asserts the documented typed error instead; on a CUDA machine those run too.
The page's ``# Use streaming...`` placeholder blocks get a statement so that the example parses.
"""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest
import responses
from recordings import body_bytes, exchange
from support.skips import require
from support.tiny_models import REPLIES

from llm_interface import errors
from llm_interface.compat.abstractllm import (
    GeneratedText,
    InvalidArgumentError,
    ModelCapability,
    ModelNotFoundError,
    ProviderAPIError,
    ResourceExhaustedError,
    Session,
    create_llm,
    options_for,
)
from llm_interface.providers import in_process

ROUTER_CHAT = "https://router.huggingface.co/v1/chat/completions"
CHAT = exchange("test_openai_compatibility_without_base_url#2")["response"]
ANSWER = CHAT["body"]["choices"][0]["message"]["content"]



@pytest.fixture
def hub(tiny_chat_model, monkeypatch, tmp_path):
    """``hub("google/gemma-2b")``: the tiny chat model in a temporary, offline Hugging Face cache under
    that Hub id (``models--org--name/snapshots/<rev>`` + ``refs/main``), so the example's id loads it."""
    require("transformers", "local")
    import huggingface_hub.constants

    cache = tmp_path / "hf-home" / "hub"
    monkeypatch.setenv("HF_HOME", str(cache.parent))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # huggingface_hub reads these when it is imported; transformers looks them up on each load.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    installed = []

    def install(repo_id):
        repo = cache / ("models--" + repo_id.replace("/", "--"))
        revision = "0" * 40
        shutil.copytree(tiny_chat_model, repo / "snapshots" / revision)
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(revision)
        installed.append(repo_id)

    yield install
    for repo_id in installed:  # the next test's cache may hold something else under the same id
        in_process.unload(repo_id)


def _cuda():
    import torch

    return torch.cuda.is_available()


def _answered(text):
    """A local answer: a non-empty str carrying llm_interface's Response."""
    assert isinstance(text, GeneratedText) and isinstance(text, str) and text
    assert text.response.provider == "huggingface" and text.response.finish_reason in ("stop", "length")
    assert text.response.usage.prompt_tokens > 0 and text.response.usage.completion_tokens > 0
    return text


@pytest.fixture
def hf_key(monkeypatch):
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "hf_from_env")  # "Set HUGGINGFACE_API_KEY in your environment"


def _chat_answers(times=1):
    for _ in range(times):
        responses.add(responses.POST, ROUTER_CHAT, body=body_bytes(CHAT), status=200, content_type="application/json")


def _sent(index=-1):
    call = responses.calls[index]
    return json.loads(call.request.body), call.request.headers


# -- Setup: authentication ------------------------------------------------------------------------------

@responses.activate
def test_authentication_example(hf_key):
    _chat_answers(2)

    # Using environment variable (recommended)
    # Set HUGGINGFACE_API_KEY in your environment
    llm = create_llm("huggingface", model="google/gemma-2b")

    # Explicit API key
    llm2 = create_llm(
        "huggingface",
        model="google/gemma-2b",
        api_key="your-huggingface-api-token-here"
    )

    llm.generate("Hi")
    assert _sent()[1]["Authorization"] == "Bearer hf_from_env"
    llm2.generate("Hi")
    assert _sent()[1]["Authorization"] == "Bearer your-huggingface-api-token-here"
    assert "api_key" not in llm2.config_manager.get_config()


# -- Basic usage ----------------------------------------------------------------------------------------

def test_local_model_example(hub, capsys):
    hub("google/gemma-2b")

    # Use a local model via pipeline
    llm = create_llm(
        "huggingface",
        model="google/gemma-2b",
        device="cuda"  # Use GPU if available, or "cpu" for CPU
    )

    if not _cuda():  # this machine: the documented error, raised when the model is loaded
        with pytest.raises(errors.ConfigurationError, match="no CUDA GPU"):
            llm.generate("Explain quantum computing in simple terms.")
        llm = create_llm("huggingface", model="google/gemma-2b", device="cpu")  # the comment's alternative
    response = llm.generate("Explain quantum computing in simple terms.")
    print(response)

    assert capsys.readouterr().out == _answered(response) + "\n"
    assert response.response.model == "google/gemma-2b" and llm.local
    assert llm.generate("Hello", temperature=0) == REPLIES["Hello"]  # the tiny model, found by the Hub id


@responses.activate
def test_inference_api_example(capsys):
    _chat_answers()

    # Use a model via the Inference API
    llm = create_llm(
        "huggingface",
        model="microsoft/phi-2",
        use_inference_api=True,
        api_key="your-huggingface-api-token-here"
    )

    response = llm.generate("Write a short poem about the ocean.")
    print(response)

    assert capsys.readouterr().out == ANSWER + "\n"
    assert response == ANSWER and response.response.model
    body, _ = _sent()
    assert body["model"] == "microsoft/phi-2"
    assert body["messages"] == [{"role": "user", "content": "Write a short poem about the ocean."}]


def test_gguf_example(tiny_gguf, capsys):
    require("llama_cpp", "gguf")

    llm = create_llm(
        "huggingface",
        model_path=tiny_gguf,  # the page: "/path/to/model.gguf"
        model_type="gguf"
    )

    response = llm.generate("Create a short story about robots.")
    print(response)

    assert capsys.readouterr().out == _answered(response) + "\n"
    assert llm.generate("What is the capital of France?", temperature=0) == REPLIES["What is the capital of France?"]


# -- Provider-specific features -------------------------------------------------------------------------

def test_model_loading_options_example(hub):
    hub("meta-llama/Llama-2-7b-hf")
    hub("google/gemma-2b")

    # Load with 4-bit quantization for memory efficiency
    llm = create_llm(
        "huggingface",
        model="meta-llama/Llama-2-7b-hf",
        quantization="4bit",
        device_map="auto"  # Automatically manage model across available devices
    )
    _needs_cuda_and_bitsandbytes(llm)

    # Load with specific configuration
    llm = create_llm(
        "huggingface",
        model="google/gemma-2b",
        model_kwargs={
            "trust_remote_code": True,
            "revision": "main",
            "torch_dtype": "bfloat16"
        }
    )

    _answered(llm.generate("Explain neural networks."))
    assert _loaded_dtype("google/gemma-2b") == "torch.bfloat16"


def _needs_cuda_and_bitsandbytes(llm):
    """4-bit / 8-bit loading: bitsandbytes on a CUDA GPU, else the documented typed error."""
    import importlib.util

    if not _cuda():
        with pytest.raises(errors.ConfigurationError, match="needs bitsandbytes on a CUDA GPU"):
            llm.generate("Hi")
    elif importlib.util.find_spec("bitsandbytes") is None:
        with pytest.raises(errors.MissingDependencyError, match="pip install bitsandbytes"):
            llm.generate("Hi")
    else:
        _answered(llm.generate("Hi"))


def _loaded_dtype(model):
    (key,) = [k for k in in_process.loaded_models() if k[0] == "transformers" and k[1] == model]
    return str(in_process._MODELS[key].model.dtype)


@responses.activate
def test_generation_parameters_example(hf_key):
    _chat_answers()

    llm = create_llm("huggingface", model="mistralai/Mistral-7B-v0.1")

    # Advanced generation parameters
    response = llm.generate(
        "Write a story about a magical forest.",
        temperature=0.7,        # Controls randomness
        max_tokens=500,         # Maximum length of generation
        top_p=0.95,             # Nucleus sampling parameter
        top_k=50,               # Top-k sampling parameter
        repetition_penalty=1.1, # Penalize repetitive tokens
        do_sample=True,         # Use sampling instead of greedy decoding
        num_return_sequences=1  # Number of completions to generate
    )

    assert response == ANSWER
    body, _ = _sent()
    assert {k: body[k] for k in ("temperature", "max_tokens", "top_p", "top_k", "repetition_penalty", "n")} == {
        "temperature": 0.7, "max_tokens": 500, "top_p": 0.95, "top_k": 50, "repetition_penalty": 1.1, "n": 1,
    }
    assert "do_sample" not in body and "num_return_sequences" not in body


@responses.activate
def test_greedy_decoding_is_temperature_zero(hf_key):
    _chat_answers()
    create_llm("huggingface", model="mistralai/Mistral-7B-v0.1").generate("Hi", do_sample=False)
    assert _sent()[0]["temperature"] == 0


def test_pipeline_configuration_example(hub):
    hub("mistralai/Mistral-7B-v0.1")

    # Use a specific pipeline configuration
    llm = create_llm(
        "huggingface",
        model="mistralai/Mistral-7B-v0.1",
        pipeline_kwargs={
            "return_full_text": False,  # Don't include prompt in output
            "clean_up_tokenization_spaces": True,
            "truncate": True
        }
    )

    assert llm.generate("Hello", temperature=0) == REPLIES["Hello"]
    assert "".join(llm.generate("Count to five.", stream=True, temperature=0)) == REPLIES["Count to five."]
    with pytest.raises(InvalidArgumentError, match="return_full_text=True"):
        create_llm("huggingface", model="mistralai/Mistral-7B-v0.1", pipeline_kwargs={"return_full_text": True}).generate("Hello")


# -- Sessions and async ---------------------------------------------------------------------------------

@responses.activate
def test_session_example(hf_key):
    _chat_answers(2)

    llm = create_llm("huggingface", model="mistralai/Mistral-7B-v0.1")
    session = Session(provider=llm)

    # First interaction
    response1 = session.generate("What is machine learning?")
    print(response1)

    # Follow-up question
    response2 = session.generate("Give some practical applications of it.")
    print(response2)

    body, _ = _sent()
    assert body["model"] == "mistralai/Mistral-7B-v0.1"
    assert [m["content"] for m in body["messages"]] == [
        "What is machine learning?", ANSWER, "Give some practical applications of it.",
    ]


def test_async_example(monkeypatch, capsys):
    from support.upstream import Upstream

    with Upstream() as up:
        monkeypatch.setenv("HUGGINGFACE_API_BASE", up.url)  # the Inference API stood in for by a loopback TGI

        async def main():
            llm = create_llm("huggingface", model="mistralai/Mistral-7B-v0.1")

            # Async generation
            response = await llm.generate_async("What is the capital of France?")
            print(response)

            # Process multiple prompts concurrently (if using Inference API)
            if llm.config_manager.get_param("use_inference_api"):
                tasks = [
                    llm.generate_async("What is the capital of France?"),
                    llm.generate_async("What is the capital of Germany?"),
                    llm.generate_async("What is the capital of Italy?")
                ]
                results = await asyncio.gather(*tasks)
                for i, result in enumerate(results):
                    print(f"Result {i+1}: {result}")
            await llm._async_client().aclose()

        asyncio.run(main())

    assert capsys.readouterr().out.splitlines() == [
        "echo: What is the capital of France?",
        "Result 1: echo: What is the capital of France?",
        "Result 2: echo: What is the capital of Germany?",
        "Result 3: echo: What is the capital of Italy?",
    ]
    assert len(up.requests) == 4


# -- Errors ---------------------------------------------------------------------------------------------

def _no_retries():
    from llm_interface import LLMInterface
    from llm_interface.request import InterfaceOptions

    LLMInterface.client.defaults = InterfaceOptions(retry_attempts=0)  # the 500 case would back off otherwise


def _error_handling_example():
    """The page's example, verbatim but for the imports (at the top of this module)."""
    try:
        llm = create_llm("huggingface", model="mistralai/Mistral-7B-v0.1")
        response = llm.generate("Explain neural networks.")
    except ModelNotFoundError:
        print("The specified model could not be found. Check the model ID or path.")
    except ResourceExhaustedError:
        print("Insufficient resources (memory/GPU) to load the model.")
    except InvalidArgumentError as e:
        print(f"Invalid argument: {e}")
    except ProviderAPIError as e:
        print(f"API error: {e}")
    else:
        print(response)


@pytest.mark.parametrize("status, body, printed", [
    (404, {"error": "Model mistralai/Mistral-7B-v0.1 does not exist"}, "The specified model could not be found"),
    (422, {"error": "Input validation error: `inputs` must have less than 4096 tokens."}, "API error: Unprocessable"),
    (500, {"error": "Internal server error"}, "API error: Server error"),
])
@responses.activate
def test_error_handling_example(status, body, printed, hf_key, capsys):
    responses.add(responses.POST, ROUTER_CHAT, json=body, status=status)
    _no_retries()
    _error_handling_example()
    assert capsys.readouterr().out.startswith(printed)


def test_error_handling_example_invalid_argument(hf_key, capsys):
    llm = create_llm("huggingface", model="mistralai/Mistral-7B-v0.1")
    try:
        llm.generate("Explain neural networks.", temperature=7)
    except InvalidArgumentError as e:
        print(f"Invalid argument: {e}")
    assert capsys.readouterr().out.startswith("Invalid argument: temperature must be between")


def test_error_names_are_ours():
    assert ProviderAPIError is errors.APIError and ModelNotFoundError is errors.NotFoundError
    assert ResourceExhaustedError is errors.ResourceExhaustedError and issubclass(ResourceExhaustedError, errors.APIError)
    assert InvalidArgumentError is errors.InvalidRequestError


# -- Performance and common issues (local) --------------------------------------------------------------

def test_memory_management_example(hub):
    hub("meta-llama/Llama-2-70b-hf")

    # Load with 8-bit quantization for reduced memory usage
    llm = create_llm(
        "huggingface",
        model="meta-llama/Llama-2-70b-hf",
        quantization="8bit",  # or "4bit" for even lower memory usage
        device_map="auto"     # Automatically distribute across GPUs
    )

    _needs_cuda_and_bitsandbytes(llm)


def test_cpu_vs_gpu_example(hub):
    hub("google/gemma-2b")

    # CPU usage (slower but no GPU required)
    llm_cpu = create_llm(
        "huggingface",
        model="google/gemma-2b",
        device="cpu"
    )

    # GPU usage (much faster with compatible GPU)
    llm_gpu = create_llm(
        "huggingface",
        model="google/gemma-2b",
        device="cuda",
        model_kwargs={"torch_dtype": "float16"}  # Using lower precision for better performance
    )

    assert llm_cpu.generate("What is the capital of France?", temperature=0) == REPLIES["What is the capital of France?"]
    if _cuda():
        _answered(llm_gpu.generate("Hello"))
        assert _loaded_dtype("google/gemma-2b") == "torch.float16"
    else:
        with pytest.raises(errors.ConfigurationError, match="no CUDA GPU"):
            llm_gpu.generate("Hello")


def test_out_of_memory_example(hub):
    hub("meta-llama/Llama-2-7b-hf")

    # Solutions for OOM errors
    llm = create_llm(
        "huggingface",
        model="meta-llama/Llama-2-7b-hf",
        # Choose one or more of these options:
        quantization="4bit",             # Reduce precision
        model_kwargs={"device_map": "auto"},  # Split across multiple GPUs
        max_tokens=256                   # Limit context size
    )

    assert llm.options["device_map"] == "auto" and "model_kwargs" not in llm.options
    _needs_cuda_and_bitsandbytes(llm)
    # "one or more of these options": without the quantization, the rest runs here (accelerate's device_map)
    require("accelerate", "local")
    llm = create_llm("huggingface", model="meta-llama/Llama-2-7b-hf", model_kwargs={"device_map": "auto"}, max_tokens=256)
    assert llm.generate("Count to five.", temperature=0) == REPLIES["Count to five."]


def test_slow_performance_example(hub):
    hub("microsoft/phi-2")

    # Use a smaller or more optimized model
    llm = create_llm(
        "huggingface",
        model="microsoft/phi-2",  # Smaller model with good performance
        model_kwargs={
            "torch_dtype": "float16",  # Use lower precision
            "low_cpu_mem_usage": True  # Optimize for lower memory usage
        }
    )

    _answered(llm.generate("Explain neural networks."))
    assert _loaded_dtype("microsoft/phi-2") == "torch.float16"


@pytest.mark.parametrize("config, expected", [
    ({"model": "google/gemma-2b", "device": "cuda"}, {"model": "google/gemma-2b", "local": True, "device": "cuda"}),
    ({"model_path": "/path/to/model.gguf", "model_type": "gguf"}, {"local": True, "model_path": "/path/to/model.gguf"}),
    ({"model": "./my-model.gguf"}, {"local": True, "model_path": "./my-model.gguf"}),
    ({"model": "meta-llama/Llama-2-7b-hf", "quantization": "4bit", "device_map": "auto"},
     {"model": "meta-llama/Llama-2-7b-hf", "local": True, "quantization": "4bit", "device_map": "auto"}),
    ({"model": "m/m", "model_kwargs": {"torch_dtype": "float16"}, "max_tokens": 256},
     {"model": "m/m", "local": True, "torch_dtype": "float16", "max_tokens": 256}),
    ({"model": "m/m", "model_kwargs": {"device_map": "auto", "revision": "main"}},
     {"model": "m/m", "local": True, "device_map": "auto", "model_kwargs": {"revision": "main"}}),
    ({"model": "m/m", "torch_dtype": "bfloat16", "model_kwargs": {"dtype": "bfloat16"}},
     {"model": "m/m", "local": True, "torch_dtype": "bfloat16"}),
    ({"model": "m/m", "pipeline_kwargs": {"truncate": True, "min_new_tokens": 2}},
     {"model": "m/m", "local": True, "pipeline_kwargs": {"truncation": True, "min_new_tokens": 2}}),
    ({"model": "m/m", "model_type": "pipeline"}, {"model": "m/m", "local": True}),
    ({"model": "m/m", "use_inference_api": False}, {"model": "m/m", "local": True}),
    ({"model": "m/m", "use_inference_api": True, "api_key": "k", "inference_api_url": "https://x.endpoints.huggingface.cloud"},
     {"model": "m/m", "api_key": "k", "api_base": "https://x.endpoints.huggingface.cloud"}),
    ({"model": "m/m", "temperature": 0.2}, {"model": "m/m", "temperature": 0.2}),
])
def test_configuration_maps_to_our_options(config, expected):
    assert options_for(config) == expected


def test_local_options_with_the_inference_api_are_refused():
    with pytest.raises(errors.InvalidRequestError, match="use_inference_api=False"):
        options_for({"model": "m/m", "use_inference_api": True, "device": "cuda"})


@pytest.mark.parametrize("config, message", [
    ({"model": "TheBloke/Llama-2-7B-GGUF", "model_type": "gguf"}, "needs the path of a .gguf file"),
    ({"model_path": "/m/x.gguf", "model_type": "pipeline"}, "is a GGUF file"),
    ({"model": "m/m", "model_type": "onnx"}, "model_type must be one of"),
    ({"model": "m/m", "torch_dtype": "float16", "model_kwargs": {"torch_dtype": "bfloat16"}}, "disagree"),
])
def test_configurations_that_cannot_mean_anything_are_refused(config, message):
    with pytest.raises(errors.InvalidRequestError, match=message):
        options_for(config)


# -- Model compatibility --------------------------------------------------------------------------------

def test_model_compatibility_example():
    llm = create_llm("huggingface", model="mistralai/Mistral-7B-v0.1")
    capabilities = llm.get_capabilities()

    # Check capabilities before using features
    if capabilities.get(ModelCapability.STREAMING):
        used = "streaming"  # Use streaming...
    else:
        used = "plain"  # Use non-streaming alternative...

    assert used == "streaming" and capabilities["streaming"] is True


@responses.activate
def test_streaming_generate(hf_key):
    recorded = exchange("test_openai_compatibility_with_stream_true#2")["response"]
    responses.add(responses.POST, ROUTER_CHAT, body=body_bytes(recorded), status=200, content_type="text/event-stream")
    pieces = list(create_llm("huggingface", model="m/m").generate("Hi", stream=True))
    assert len(pieces) > 1 and all(isinstance(p, str) and p for p in pieces)
