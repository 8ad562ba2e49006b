"""Prompt rendering: chat messages bound for a raw-generation route (TGI ``/generate``, hf-inference
text-generation) turned into one prompt string and its stop sequences.

The order is documented in ``prompts/templates.py``: forced > registered > the model's own Hub chat
template > built-in family > plain (with a warning). The Hub template is the one piece of I/O: it is
fetched once per model through the ``get_json`` the client hands in, and a model without one (gated,
missing, offline) falls through to the built-in templates.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from . import errors
from .plan import Plan
from .prompts import HubTemplate, PromptTemplates, family_of, plain, tokenizer_config_url
from .request import Request
from .wire import Context

logger = logging.getLogger("llm_interface")

# (url, headers, context, timeout) -> the JSON body: the client's transport, without retries.
GetJson = Callable[[str, Mapping[str, str], Context, Any], Any]


def needs_prompt(plan: Plan) -> bool:
    """Chat messages bound for a raw-generation route, which ``PromptRenderer.render`` must turn into a prompt."""
    return plan.request.prompt is None and plan.provider.renders_prompt(plan.request)


class PromptRenderer:
    """The templates of one client (registered ones, and the Hub's, fetched once per model)."""

    def __init__(self, templates: PromptTemplates, get_json: GetJson) -> None:
        self.templates = templates
        self._get_json = get_json
        self._hub: Dict[str, Optional[HubTemplate]] = {}

    def hub_template(self, model: str, api_key: Optional[str] = None) -> Optional[HubTemplate]:
        """The model's own chat template from its ``tokenizer_config.json`` on the Hub; None when it has none
        or it cannot be read (logged, then the built-in templates apply)."""
        if model in self._hub:
            return self._hub[model]
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        template: Optional[HubTemplate] = None
        try:
            config = self._get_json(tokenizer_config_url(model), headers, Context("huggingface", model), 10)
            template = HubTemplate.from_config(config)
        except errors.LLMInterfaceError as error:
            logger.warning("Could not read the Hub chat template of %s (%s); using the built-in templates.", model, error)
        self._hub[model] = template
        return template

    def prompt_for(self, request: Request) -> Tuple[str, Tuple[str, ...]]:
        """(prompt, stop sequences) for the request's chat messages."""
        messages: List[Dict[str, Any]] = list(request.messages or ())
        forced = request.settings.get("prompt_template")
        hub_id = request.model if request.model and "/" in request.model and "://" not in request.model else None
        if forced == "hub":
            hub = self.hub_template(hub_id, request.api_key) if hub_id else None
            if hub is None:
                raise errors.ConfigurationError(
                    f"prompt_template='hub' needs a Hub model id with a chat template; {request.model!r} has none.",
                    provider=request.provider, model=request.model,
                )
            return hub.render(messages), hub.stop
        template = self.templates.named(forced) if forced else self.templates.registered(request.model)
        if template is None and hub_id:
            hub = self.hub_template(hub_id.split(":")[0], request.api_key)
            if hub is not None:
                return hub.render(messages), hub.stop
        template = template or family_of(request.model)
        if template is None:
            return plain(messages, request.model), ()
        return template.render(messages), template.stop

    def render(self, plan: Plan) -> Plan:
        """The plan with its chat rendered into ``request.prompt`` (stop sequences added when none were
        asked for); a plan that needs no prompt comes back as it is."""
        if not needs_prompt(plan):
            return plan
        request = plan.request
        prompt, stops = self.prompt_for(request)
        params = request.params
        if stops and not params.get("stop"):
            params = {**params, "stop": list(stops)}
        return plan._replace(request=replace(request, prompt=prompt, params=params))
