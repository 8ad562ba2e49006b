"""Local models in this process with transformers (extra ``[local]``; torch is the user's choice).

Follows (checked 2026-11-21 with transformers 5.23): ``AutoTokenizer.apply_chat_template(messages,
tools=..., add_generation_prompt=True, return_dict=True)``, ``AutoModelForCausalLM.from_pretrained(...,
dtype=, device_map=, quantization_config=BitsAndBytesConfig(...))``, ``model.generate(...,
stop_strings=, tokenizer=, streamer=TextIteratorStreamer(...))``; embeddings with sentence-transformers
when the folder is a sentence-transformers model and the package is installed, otherwise mean pooling
over ``AutoModel``'s last hidden state (what all-MiniLM-style models do), normalised.

When a call goes here is decided by ``huggingface.local_engine`` (the one rule, documented there and in
docs/local-models.md). A model is loaded once per process (``in_process.loaded``) and reused until
``unload()``.
"""

from __future__ import annotations

import json
import os
import re
import threading
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .. import errors
from ..request import Request
from ..types import EmbeddingResponse, Response, StreamChunk
from .base import stop_list
from .hf_tasks import texts_of
from .in_process import InProcessEngine, TextAssembler, finish_text, loaded, registry_key, unload, usage_of

# transformers' own default is max_length=20 (prompt included), which cuts almost every answer.
DEFAULT_MAX_TOKENS = 256
# ``org/name`` or ``name``: anything else (absolute, ./relative, deeper) is a path and must exist.
HUB_ID = re.compile(r"[\w.-]+(/[\w.-]+)?")
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "float16", "bfloat16", "float64")
QUANTIZATION = {"4bit": "load_in_4bit", "8bit": "load_in_8bit", "int4": "load_in_4bit", "int8": "load_in_8bit"}
# transformers' text-generation pipeline's own arguments, which pipeline_kwargs (named after it) may carry
# beside model.generate's: handled here, since model.generate refuses them.
PIPELINE_ONLY = ("return_full_text", "clean_up_tokenization_spaces", "truncation")


class LocalModel:
    """A loaded tokenizer + model, and where its inputs must go."""

    def __init__(self, tokenizer: Any, model: Any, device: Any) -> None:
        self.tokenizer = tokenizer
        self.model = model
        self.device = device
        eos = getattr(model.generation_config, "eos_token_id", None)
        eos = list(eos) if isinstance(eos, (list, tuple)) else [eos]
        self.eos_ids = {i for i in eos + [tokenizer.eos_token_id] if i is not None}


class TransformersEngine(InProcessEngine):
    engine = "transformers"
    extra = "local"
    tasks = frozenset({"chat", "completion", "embeddings"})
    params = frozenset({
        "max_tokens", "max_new_tokens", "temperature", "top_p", "top_k", "seed", "stop", "tools", "tool_choice",
        "repetition_penalty", "normalize", "truncate",
    })

    def supports(self, request: Request) -> None:
        super().supports(request)
        self.check_params(request)
        device = request.settings.get("device")
        if device is not None and not (isinstance(device, str) and device.split(":")[0] in DEVICES):
            raise errors.InvalidRequestError(
                f"device must be one of {', '.join(DEVICES)} (or 'cuda:N'), got {device!r}.", provider=self.name,
            )
        dtype = request.settings.get("torch_dtype")
        if isinstance(dtype, str) and dtype not in DTYPES:
            raise errors.InvalidRequestError(
                f"torch_dtype must be one of {', '.join(DTYPES)} (or a torch.dtype), got {dtype!r}.", provider=self.name,
            )
        quantization = request.settings.get("quantization")
        if quantization is not None and quantization not in QUANTIZATION:
            raise errors.InvalidRequestError(
                f"quantization must be '4bit' or '8bit', got {quantization!r}.", provider=self.name,
            )
        if (request.settings.get("pipeline_kwargs") or {}).get("return_full_text"):
            raise errors.InvalidRequestError(
                "return_full_text=True is not supported: answers hold the generated text only (the prompt is "
                "yours already). Drop it or pass False.", provider=self.name,
            )

    # -- loading ------------------------------------------------------------------------------------

    def model_for(self, request: Request) -> LocalModel:
        key = registry_key("transformers", request, ("device", "torch_dtype", "device_map", "quantization", "model_kwargs"))
        with self.engine_errors(request):
            return loaded(key, lambda: self._load(request))

    def _imports(self) -> Tuple[Any, Any]:
        try:
            import torch
        except ImportError:
            raise self.missing("torch (install the build for your hardware from pytorch.org)") from None
        try:
            import transformers
        except ImportError:
            raise self.missing("transformers") from None
        return torch, transformers

    def _load(self, request: Request) -> LocalModel:
        source = model_source(request)  # a wrong path is the first thing to tell, before missing packages
        torch, transformers = self._imports()
        settings = request.settings
        kwargs: Dict[str, Any] = dict(settings.get("model_kwargs") or {})
        dtype = settings.get("torch_dtype")
        if dtype is not None:
            # transformers 4.56 renamed torch_dtype to dtype (the old name warns in 5.x).
            kwargs["dtype" if _version(transformers.__version__) >= (4, 56) else "torch_dtype"] = dtype if dtype == "auto" or not isinstance(dtype, str) else getattr(torch, dtype)
        quantization = settings.get("quantization")
        if quantization is not None:
            kwargs["quantization_config"] = self._quantization(torch, transformers, quantization)
        device_map = settings.get("device_map")
        if device_map is not None:
            kwargs["device_map"] = device_map
        device = None
        if device_map is None and quantization is None:
            device = resolve_device(torch, settings.get("device"))
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(source)
            model = transformers.AutoModelForCausalLM.from_pretrained(source, **kwargs)
        except ValueError as exc:
            if "accelerate" not in str(exc):
                raise
            raise errors.MissingDependencyError(
                f"device_map={device_map!r} needs accelerate: pip install accelerate ({exc})", provider=self.name,
            ) from exc
        if device is not None:
            model = model.to(device)
        return LocalModel(tokenizer, model.eval(), device or model.device)

    def _quantization(self, torch: Any, transformers: Any, quantization: str) -> Any:
        if not torch.cuda.is_available():
            raise errors.ConfigurationError(
                f"quantization={quantization!r} needs bitsandbytes on a CUDA GPU, and torch sees no GPU here. "
                "Drop the option (use torch_dtype='bfloat16' for a smaller CPU model), or use a GGUF model.",
                provider=self.name,
            )
        try:
            import bitsandbytes  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            raise errors.MissingDependencyError(
                f"quantization={quantization!r} needs bitsandbytes: pip install bitsandbytes", provider=self.name,
            ) from None
        return transformers.BitsAndBytesConfig(**{QUANTIZATION[quantization]: True})

    # -- generation ---------------------------------------------------------------------------------

    def _inputs(self, loaded_model: LocalModel, request: Request) -> Any:
        tokenizer = loaded_model.tokenizer
        truncation = bool((request.settings.get("pipeline_kwargs") or {}).get("truncation"))  # to the model's max length
        if request.prompt is not None:
            inputs = tokenizer(request.prompt, return_tensors="pt", truncation=truncation)
        else:
            tools = request.params.get("tools") if request.params.get("tool_choice") != "none" else None
            inputs = tokenizer.apply_chat_template(
                template_messages(request.messages or ()), tools=tools or None, add_generation_prompt=True,
                return_tensors="pt", return_dict=True, truncation=truncation,
            )
        return {name: tensor.to(loaded_model.device) for name, tensor in inputs.items()}

    def _generate_kwargs(self, loaded_model: LocalModel, request: Request) -> Dict[str, Any]:
        params = request.params
        tokenizer = loaded_model.tokenizer
        kwargs: Dict[str, Any] = {
            "max_new_tokens": params.get("max_tokens", params.get("max_new_tokens")) or DEFAULT_MAX_TOKENS,
            "pad_token_id": tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
        }
        temperature = params.get("temperature")
        if temperature is not None:
            # OpenAI's temperature 0 means greedy; transformers refuses temperature=0 with sampling on.
            kwargs["do_sample"] = temperature > 0
            if temperature > 0:
                kwargs["temperature"] = temperature
        if kwargs.get("do_sample", loaded_model.model.generation_config.do_sample):
            for name in ("top_p", "top_k"):
                if params.get(name) is not None:
                    kwargs[name] = params[name]
        if params.get("repetition_penalty") is not None:
            kwargs["repetition_penalty"] = params["repetition_penalty"]
        stops = stop_list(params)
        if stops:
            kwargs["stop_strings"], kwargs["tokenizer"] = stops, tokenizer
        if params.get("seed") is not None:
            import torch

            torch.manual_seed(int(params["seed"]))
        pipeline_kwargs = request.settings.get("pipeline_kwargs") or {}
        kwargs.update({k: v for k, v in pipeline_kwargs.items() if k not in PIPELINE_ONLY})
        return kwargs

    def _decode_kwargs(self, request: Request) -> Dict[str, Any]:
        kwargs = {"skip_special_tokens": True}
        pipeline_kwargs = request.settings.get("pipeline_kwargs") or {}
        if "clean_up_tokenization_spaces" in pipeline_kwargs:
            kwargs["clean_up_tokenization_spaces"] = pipeline_kwargs["clean_up_tokenization_spaces"]
        return kwargs

    def _finish_reason(self, loaded_model: LocalModel, new_ids: List[int], max_new_tokens: int) -> str:
        if new_ids and new_ids[-1] in loaded_model.eos_ids:
            return "stop"
        return "length" if len(new_ids) >= max_new_tokens else "stop"  # else a stop string ended it

    def compute(self, request: Request) -> Any:
        if request.task == "embeddings":
            return self.embed(request)
        loaded_model = self.model_for(request)
        with self.engine_errors(request):
            import torch

            inputs = self._inputs(loaded_model, request)
            kwargs = self._generate_kwargs(loaded_model, request)
            with torch.inference_mode():
                output = loaded_model.model.generate(**inputs, **kwargs)
        prompt_length = inputs["input_ids"].shape[1]
        new_ids = output[0, prompt_length:].tolist()
        text = loaded_model.tokenizer.decode(new_ids, **self._decode_kwargs(request))
        finish = self._finish_reason(loaded_model, new_ids, kwargs["max_new_tokens"])
        text, calls, finish = finish_text(request, text, finish)
        return Response(
            results=text, model=request.model, provider=self.name, finish_reason=finish,
            usage=usage_of(prompt_length, len(new_ids)), tool_calls=calls,
        )

    def stream(self, request: Request) -> Iterator[StreamChunk]:
        """Generation runs in a thread feeding ``TextIteratorStreamer``; closing the stream early stops it
        at the next token."""
        if request.task == "embeddings":
            raise errors.UnsupportedTaskError("embeddings cannot be streamed.", provider=self.name)
        loaded_model = self.model_for(request)
        return self._stream(loaded_model, request)

    def _stream(self, loaded_model: LocalModel, request: Request) -> Iterator[StreamChunk]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        cancelled = threading.Event()

        class Cancelled(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full((input_ids.shape[0],), cancelled.is_set(), dtype=torch.bool, device=input_ids.device)

        with self.engine_errors(request):
            inputs = self._inputs(loaded_model, request)
            kwargs = self._generate_kwargs(loaded_model, request)
        streamer = TextIteratorStreamer(loaded_model.tokenizer, skip_prompt=True, **self._decode_kwargs(request))
        outcome: Dict[str, Any] = {}

        def generate() -> None:
            try:
                with torch.inference_mode():
                    outcome["output"] = loaded_model.model.generate(
                        **inputs, **kwargs, streamer=streamer, stopping_criteria=StoppingCriteriaList([Cancelled()]),
                    )
            except BaseException as exc:  # handed to the consuming thread, which raises it typed
                outcome["error"] = exc
                streamer.end()

        worker = threading.Thread(target=generate, name="llm-interface-local-generate", daemon=True)
        assembler = TextAssembler(request, self.name)
        worker.start()
        try:
            for piece in streamer:
                yield from assembler.feed(piece)
        finally:
            cancelled.set()
            worker.join()
        if "error" in outcome:
            with self.engine_errors(request):
                raise outcome["error"]
        prompt_length = inputs["input_ids"].shape[1]
        new_ids = outcome["output"][0, prompt_length:].tolist()
        finish = self._finish_reason(loaded_model, new_ids, kwargs["max_new_tokens"])
        yield from assembler.end(finish, usage_of(prompt_length, len(new_ids)))

    # -- embeddings ---------------------------------------------------------------------------------

    def embed(self, request: Request) -> EmbeddingResponse:
        texts = texts_of(request)
        normalize = request.params.get("normalize", True)
        with self.engine_errors(request):  # loading too: its OSError is a ModelNotFoundError
            vectors, tokens = self._encoder(request)(texts, normalize)
        return EmbeddingResponse(vectors, model=request.model, provider=self.name, usage=usage_of(tokens, 0))

    def _encoder(self, request: Request) -> Any:
        source = model_source(request)
        device = request.settings.get("device")
        if os.path.exists(os.path.join(source, "modules.json")):
            try:
                import sentence_transformers  # noqa: F401
            except ImportError:
                pass
            else:
                key = ("sentence-transformers", request.model, device)
                return loaded(key, lambda: SentenceTransformersEncoder(source, device))
        torch, transformers = self._imports()
        key = ("mean-pooling", request.model, device)
        return loaded(key, lambda: MeanPoolingEncoder(torch, transformers, source, resolve_device(torch, device)))


class SentenceTransformersEncoder:
    def __init__(self, source: str, device: Optional[str]) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(source, device=None if device in (None, "auto") else device)

    def __call__(self, texts: List[str], normalize: bool) -> Tuple[List[List[float]], int]:
        vectors = self.model.encode(texts, normalize_embeddings=normalize, convert_to_numpy=True)
        tokens = sum(len(ids) for ids in self.model.tokenize(texts)["input_ids"])
        return vectors.tolist(), int(tokens)


class MeanPoolingEncoder:
    """The average of the last hidden states over real (not padding) tokens."""

    def __init__(self, torch: Any, transformers: Any, source: str, device: Any) -> None:
        self.torch = torch
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(source)
        self.model = transformers.AutoModel.from_pretrained(source).to(device).eval()
        self.device = device

    def __call__(self, texts: List[str], normalize: bool) -> Tuple[List[List[float]], int]:
        torch = self.torch
        batch = self.tokenizer(texts, padding=True, truncation=True, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        vectors = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        if normalize:
            vectors = torch.nn.functional.normalize(vectors, p=2, dim=1)
        return vectors.float().cpu().tolist(), int(batch["attention_mask"].sum())


# -- helpers ----------------------------------------------------------------------------------------


def model_source(request: Request) -> str:
    """The folder or Hub id to load; a path-looking name that does not exist is ModelNotFoundError at once."""
    source = os.path.expanduser(str(request.settings.get("model_path") or request.model))
    if not HUB_ID.fullmatch(source) and not os.path.exists(source):
        raise errors.ModelNotFoundError(
            f"The local model folder {source!r} does not exist. Pass the folder that holds config.json and "
            "the weights (or a Hub id such as 'Qwen/Qwen2.5-0.5B-Instruct' already in the local cache).",
            provider="huggingface", model=request.model,
        )
    if os.path.isdir(source) and not os.path.isfile(os.path.join(source, "config.json")):
        raise errors.ModelNotFoundError(
            f"The folder {source!r} holds no model (no config.json). Pass the folder that save_pretrained wrote, "
            "or the snapshot folder of a downloaded Hub model.", provider="huggingface", model=request.model,
        )
    return source


def resolve_device(torch: Any, device: Optional[str]) -> str:
    """``auto`` (the default): CUDA, else Apple's MPS, else the CPU. An unavailable device is a clear error."""
    if device in (None, "auto"):
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise errors.ConfigurationError(
            f"device={device!r} but torch sees no CUDA GPU (torch {torch.__version__}). Use device='cpu' or 'auto', "
            "or install a CUDA build of torch.", provider="huggingface",
        )
    return device


def _version(text: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2])


def template_messages(messages: Any) -> List[Dict[str, Any]]:
    """Messages as chat templates expect them: tool-call arguments as objects (Hugging Face's convention;
    OpenAI's wire sends JSON strings), so that a template's ``tojson`` does not encode them twice."""
    out: List[Dict[str, Any]] = []
    for message in messages:
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        if calls:
            message = dict(message, tool_calls=[_with_object_arguments(call) for call in calls])
        out.append(message)
    return out


def _with_object_arguments(call: Dict[str, Any]) -> Dict[str, Any]:
    function = call.get("function") or {}
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return call
        return dict(call, function=dict(function, arguments=arguments))
    return call


__all__ = ["TransformersEngine", "unload"]
