"""Build the reasoner the options ask for: the resolver, or an LLM in front of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medsee_cli.errors import InputError
from medsee_cli.reasoning.knowledge import load_knowledge
from medsee_cli.reasoning.resolution import Reasoner
from medsee_cli.reasoning.resolver import ReasonerOptions, Resolver


def build_reasoner(options: ReasonerOptions, encoder: Any) -> Reasoner:
    """``encoder``: the sentence encoder the caller opened from ``options`` (None: lexical only),
    handed in so one encoder serves the whole run (the grounding model's target texts too)."""
    resolver = Resolver(load_knowledge(options.knowledge), options, encoder)
    if not options.llm:
        return resolver
    from medsee_cli.reasoning.llm import LLMReasoner, http_generator, local_generator

    if options.llm.startswith(("http://", "https://")):
        generate = http_generator(options.llm, options.llm_model, options.llm_timeout_s)
        return LLMReasoner(resolver, generate, options.llm)
    folder = Path(options.llm)
    if not folder.is_dir():
        raise InputError(options.llm, "is neither an http(s) URL nor a model folder")
    return LLMReasoner(resolver, local_generator(folder, options.llm_max_new_tokens), folder.name)
