"""EasyLLM's Hugging Face client over llm_interface. Change ``easyllm.clients`` / ``easyllm`` to
``llm_interface.compat.easyllm``:

    from llm_interface.compat.easyllm import huggingface
    from llm_interface.compat.easyllm.prompt_utils import build_llama2_prompt

    huggingface.prompt_builder = build_llama2_prompt
    response = huggingface.ChatCompletion.create(model="meta-llama/Llama-2-70b-chat-hf", messages=[...])

``huggingface`` is a module: ``huggingface.api_key``, ``huggingface.api_base`` and ``huggingface.prompt_builder``
are plain module variables, read when each call is made (EasyLLM read some at import time).
"""

from . import huggingface, prompt_utils

__all__ = ["huggingface", "prompt_utils"]
