"""Drop-in entry points for users of other libraries: change one import, keep the code.

    from llm_interface.compat.litellm import completion, text_completion, embedding    # LiteLLM
    from llm_interface.compat.easyllm import huggingface                              # EasyLLM
    from llm_interface.compat.easyllm.prompt_utils import build_llama2_prompt
    from llm_interface.compat.abstractllm import create_llm, Session                  # AbstractLLM
    from llm_interface.compat.javascript import LLMInterfaceSendMessageWithConfig       # JS llm-interface

Each adapter is a thin translation over the same ``Client`` (by default ``LLMInterface.client``, so
``LLMInterface.configure_cache(...)``, ``set_api_key`` and hooks apply to it): retries, the cache, the
typed errors and the connection pool come with it. The JS library's camelCase option names are accepted
by ``Client`` itself. docs/migration.md maps every documented feature of each library; tests/peers/ pins
each library's own behaviour, test by test, naming the peer source.
"""
