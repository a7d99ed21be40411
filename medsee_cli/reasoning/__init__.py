"""Reasoning: from a question in plain words to ranked target structures with a rationale.

Light to import: the sentence encoder (torch, transformers) loads only when a resolver asks for it.
"""

from medsee_cli.reasoning.knowledge import Entry, KnowledgeBase, load_knowledge, lookup
from medsee_cli.reasoning.resolution import Hypothesis, Resolution

__all__ = ["Entry", "Hypothesis", "KnowledgeBase", "Resolution", "load_knowledge", "lookup"]
