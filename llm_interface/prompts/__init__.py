"""Prompt templates for raw-generation routes: built-in families, registered ones, and Hub chat templates."""

from .hub import HubTemplate, tokenizer_config_url
from .templates import BUILT_IN, PromptTemplate, PromptTemplates, family_of, plain

__all__ = ["BUILT_IN", "HubTemplate", "PromptTemplate", "PromptTemplates", "family_of", "plain", "tokenizer_config_url"]
