"""The text-task calls (summarization, translation, token classification, question answering, fill-mask,
sentence similarity, table question answering) and the Responses API (``respond``, ``stream_respond``) for
``Client``, ``AsyncClient`` and ``LLMInterface``, as three mixins over one set of input checks, so that the three
faces cannot drift (tests/test_text_tasks.py holds their signatures equal). The task names are huggingface_hub's
``InferenceClient`` method names. The routes and answers are in providers/hf_text_tasks.py and
providers/responses_api.py; the user's view in docs/tasks.md and docs/responses-api.md.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from . import errors
from .async_stream import AsyncStream
from .stream import Stream
from .task_types import (
    FillMaskResponse,
    QuestionAnsweringResponse,
    SentenceSimilarityResponse,
    SummarizationResponse,
    TableQuestionAnsweringResponse,
    TokenClassificationResponse,
    TranslationResponse,
)
from .types import Response

Options = Optional[Mapping[str, Any]]


def _text(value: Any, name: str, task: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise errors.InvalidRequestError(f"{task} needs {name} as a non-empty string, got {value!r}.")
    return value


def _table(table: Any) -> Dict[str, List[str]]:
    """TAPAS reads every cell as text: a dict of column name -> cells, all columns the same length."""
    if not isinstance(table, Mapping) or not table:
        raise errors.InvalidRequestError(
            "table-question-answering needs table as a dict of column -> list of cells, "
            "e.g. {'Repository': ['Transformers', 'Datasets'], 'Stars': ['36542', '4512']}."
        )
    lengths = set()
    for column, cells in table.items():
        if not isinstance(column, str) or not isinstance(cells, (list, tuple)):
            raise errors.InvalidRequestError(f"table[{column!r}] must be a list of cells under a string column name.")
        lengths.add(len(cells))
    if len(lengths) != 1:
        raise errors.InvalidRequestError(f"every column of table needs the same number of cells, got {sorted(lengths)}.")
    return {column: [str(cell) for cell in cells] for column, cells in table.items()}


def inputs_for(task: str, *args: Any) -> Any:
    """A task's ``inputs`` as the pipeline takes them, checked (a typed error that says what to pass)."""
    if task == "question-answering":
        question, context = args
        return {"question": _text(question, "question", task), "context": _text(context, "context", task)}
    if task == "sentence-similarity":
        sentence, others = args
        if isinstance(others, str) or not isinstance(others, (list, tuple)) or not others:
            raise errors.InvalidRequestError("sentence-similarity needs other_sentences as a non-empty list of strings.")
        return {"source_sentence": _text(sentence, "sentence", task),
                "sentences": [_text(other, f"other_sentences[{i}]", task) for i, other in enumerate(others)]}
    if task == "table-question-answering":
        table, query = args
        return {"query": _text(query, "query", task), "table": _table(table)}
    (text,) = args
    return _text(text, "text", task)


def respond_input(value: Any) -> Any:
    """The Responses API's ``input``: a string, or a non-empty list of items (messages, function outputs)."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(item, Mapping) for item in value):
        return [dict(item) for item in value]
    raise errors.InvalidRequestError(
        "respond needs input as a non-empty string or a list of items such as "
        "[{'role': 'user', 'content': 'Hello'}]."
    )


class TextTaskCalls:
    """``Client``'s text-task methods (it provides ``plan`` and ``answer``)."""

    plan: Any
    answer: Any
    open_stream: Any

    def respond(self, provider: str, input: Any, options: Options = None, interface_options: Options = None) -> Response:
        """The Responses API (``instructions``, ``tools``, ``reasoning``, ``max_output_tokens``... in options): a
        Response with the output text, ``reasoning`` and ``tool_calls`` (docs/responses-api.md)."""
        return self.answer(self.plan(provider, "respond", None, options, interface_options, inputs=respond_input(input)))

    def stream_respond(self, provider: str, input: Any, options: Options = None, interface_options: Options = None) -> Stream:
        """``respond``, streamed: a chunk per event (``chunk.raw["type"]``), text and reasoning deltas filled in."""
        return self.open_stream(
            self.plan(provider, "respond", None, options, interface_options, stream=True, inputs=respond_input(input)))

    def text_task_plan(self, provider: str, task: str, inputs: Any, options: Options, interface_options: Options) -> Any:
        return self.plan(provider, task, None, options, interface_options, inputs=inputs)

    def _task(self, provider: str, task: str, args: tuple, options: Options, interface_options: Options) -> Any:
        return self.answer(self.text_task_plan(provider, task, inputs_for(task, *args), options, interface_options))

    def summarization(self, provider: str, text: str, options: Options = None, interface_options: Options = None) -> SummarizationResponse:
        """A summary of ``text`` (``generate_parameters``, ``truncation``... in options)."""
        return self._task(provider, "summarization", (text,), options, interface_options)

    def translation(self, provider: str, text: str, options: Options = None, interface_options: Options = None) -> TranslationResponse:
        """``text`` translated; multilingual models need ``src_lang`` and ``tgt_lang`` in options."""
        return self._task(provider, "translation", (text,), options, interface_options)

    def token_classification(self, provider: str, text: str, options: Options = None,
                             interface_options: Options = None) -> TokenClassificationResponse:
        """Named entities (or tokens) of ``text``; ``aggregation_strategy`` ("simple", "first", "average",
        "max", "none"), ``ignore_labels``, ``stride`` in options."""
        return self._task(provider, "token-classification", (text,), options, interface_options)

    def question_answering(self, provider: str, question: str, context: str, options: Options = None,
                           interface_options: Options = None) -> QuestionAnsweringResponse:
        """The answer to ``question`` found in ``context`` (``top_k`` for more candidates)."""
        return self._task(provider, "question-answering", (question, context), options, interface_options)

    def fill_mask(self, provider: str, text: str, options: Options = None, interface_options: Options = None) -> FillMaskResponse:
        """Candidates for the mask token in ``text`` (``[MASK]`` for BERT, ``<mask>`` for RoBERTa); ``top_k``, ``targets``."""
        return self._task(provider, "fill-mask", (text,), options, interface_options)

    def sentence_similarity(self, provider: str, sentence: str, other_sentences: List[str], options: Options = None,
                            interface_options: Options = None) -> SentenceSimilarityResponse:
        """One similarity score per other sentence, in the order given."""
        return self._task(provider, "sentence-similarity", (sentence, other_sentences), options, interface_options)

    def table_question_answering(self, provider: str, table: Mapping[str, List[str]], query: str, options: Options = None,
                                 interface_options: Options = None) -> TableQuestionAnsweringResponse:
        """The answer to ``query`` about ``table`` (column -> cells); ``padding``, ``sequential``, ``truncation``."""
        return self._task(provider, "table-question-answering", (table, query), options, interface_options)


class AsyncTextTaskCalls:
    """``AsyncClient``'s ``*_async`` twins (it provides ``client`` and the async ``answer``)."""

    client: Any
    answer: Any
    open_stream: Any

    async def respond_async(self, provider: str, input: Any, options: Options = None,
                            interface_options: Options = None) -> Response:
        plan = self.client.plan(provider, "respond", None, options, interface_options, inputs=respond_input(input))
        return await self.answer(plan)

    def stream_respond_async(self, provider: str, input: Any, options: Options = None,
                             interface_options: Options = None) -> AsyncStream:
        return self.open_stream(
            self.client.plan(provider, "respond", None, options, interface_options, stream=True, inputs=respond_input(input)))

    async def _task(self, provider: str, task: str, args: tuple, options: Options, interface_options: Options) -> Any:
        return await self.answer(self.client.text_task_plan(provider, task, inputs_for(task, *args), options, interface_options))

    async def summarization_async(self, provider: str, text: str, options: Options = None,
                                  interface_options: Options = None) -> SummarizationResponse:
        return await self._task(provider, "summarization", (text,), options, interface_options)

    async def translation_async(self, provider: str, text: str, options: Options = None,
                                interface_options: Options = None) -> TranslationResponse:
        return await self._task(provider, "translation", (text,), options, interface_options)

    async def token_classification_async(self, provider: str, text: str, options: Options = None,
                                         interface_options: Options = None) -> TokenClassificationResponse:
        return await self._task(provider, "token-classification", (text,), options, interface_options)

    async def question_answering_async(self, provider: str, question: str, context: str, options: Options = None,
                                       interface_options: Options = None) -> QuestionAnsweringResponse:
        return await self._task(provider, "question-answering", (question, context), options, interface_options)

    async def fill_mask_async(self, provider: str, text: str, options: Options = None,
                              interface_options: Options = None) -> FillMaskResponse:
        return await self._task(provider, "fill-mask", (text,), options, interface_options)

    async def sentence_similarity_async(self, provider: str, sentence: str, other_sentences: List[str],
                                        options: Options = None, interface_options: Options = None) -> SentenceSimilarityResponse:
        return await self._task(provider, "sentence-similarity", (sentence, other_sentences), options, interface_options)

    async def table_question_answering_async(self, provider: str, table: Mapping[str, List[str]], query: str,
                                             options: Options = None,
                                             interface_options: Options = None) -> TableQuestionAnsweringResponse:
        return await self._task(provider, "table-question-answering", (table, query), options, interface_options)


class FacadeTextTasks:
    """``LLMInterface``'s text-task methods, forwarding to the default Client and its AsyncClient."""

    client: Any
    async_client: Any

    @classmethod
    def respond(cls, provider: str, input: Any, options: Options = None, interface_options: Options = None) -> Response:
        return cls.client.respond(provider, input, options, interface_options)

    @classmethod
    def stream_respond(cls, provider: str, input: Any, options: Options = None, interface_options: Options = None) -> Stream:
        return cls.client.stream_respond(provider, input, options, interface_options)

    @classmethod
    async def respond_async(cls, provider: str, input: Any, options: Options = None,
                            interface_options: Options = None) -> Response:
        return await cls.async_client().respond_async(provider, input, options, interface_options)

    @classmethod
    def stream_respond_async(cls, provider: str, input: Any, options: Options = None,
                             interface_options: Options = None) -> AsyncStream:
        return cls.async_client().stream_respond_async(provider, input, options, interface_options)

    @classmethod
    def summarization(cls, provider: str, text: str, options: Options = None, interface_options: Options = None) -> SummarizationResponse:
        return cls.client.summarization(provider, text, options, interface_options)

    @classmethod
    def translation(cls, provider: str, text: str, options: Options = None, interface_options: Options = None) -> TranslationResponse:
        return cls.client.translation(provider, text, options, interface_options)

    @classmethod
    def token_classification(cls, provider: str, text: str, options: Options = None,
                             interface_options: Options = None) -> TokenClassificationResponse:
        return cls.client.token_classification(provider, text, options, interface_options)

    @classmethod
    def question_answering(cls, provider: str, question: str, context: str, options: Options = None,
                           interface_options: Options = None) -> QuestionAnsweringResponse:
        return cls.client.question_answering(provider, question, context, options, interface_options)

    @classmethod
    def fill_mask(cls, provider: str, text: str, options: Options = None, interface_options: Options = None) -> FillMaskResponse:
        return cls.client.fill_mask(provider, text, options, interface_options)

    @classmethod
    def sentence_similarity(cls, provider: str, sentence: str, other_sentences: List[str], options: Options = None,
                            interface_options: Options = None) -> SentenceSimilarityResponse:
        return cls.client.sentence_similarity(provider, sentence, other_sentences, options, interface_options)

    @classmethod
    def table_question_answering(cls, provider: str, table: Mapping[str, List[str]], query: str, options: Options = None,
                                 interface_options: Options = None) -> TableQuestionAnsweringResponse:
        return cls.client.table_question_answering(provider, table, query, options, interface_options)

    @classmethod
    async def summarization_async(cls, provider: str, text: str, options: Options = None,
                                  interface_options: Options = None) -> SummarizationResponse:
        return await cls.async_client().summarization_async(provider, text, options, interface_options)

    @classmethod
    async def translation_async(cls, provider: str, text: str, options: Options = None,
                                interface_options: Options = None) -> TranslationResponse:
        return await cls.async_client().translation_async(provider, text, options, interface_options)

    @classmethod
    async def token_classification_async(cls, provider: str, text: str, options: Options = None,
                                         interface_options: Options = None) -> TokenClassificationResponse:
        return await cls.async_client().token_classification_async(provider, text, options, interface_options)

    @classmethod
    async def question_answering_async(cls, provider: str, question: str, context: str, options: Options = None,
                                       interface_options: Options = None) -> QuestionAnsweringResponse:
        return await cls.async_client().question_answering_async(
            provider, question, context, options, interface_options)

    @classmethod
    async def fill_mask_async(cls, provider: str, text: str, options: Options = None,
                              interface_options: Options = None) -> FillMaskResponse:
        return await cls.async_client().fill_mask_async(provider, text, options, interface_options)

    @classmethod
    async def sentence_similarity_async(cls, provider: str, sentence: str, other_sentences: List[str],
                                        options: Options = None, interface_options: Options = None) -> SentenceSimilarityResponse:
        return await cls.async_client().sentence_similarity_async(
            provider, sentence, other_sentences, options, interface_options)

    @classmethod
    async def table_question_answering_async(cls, provider: str, table: Mapping[str, List[str]], query: str,
                                             options: Options = None,
                                             interface_options: Options = None) -> TableQuestionAnsweringResponse:
        return await cls.async_client().table_question_answering_async(
            provider, table, query, options, interface_options)


__all__ = ["AsyncTextTaskCalls", "FacadeTextTasks", "TextTaskCalls", "inputs_for"]
