"""Optional LLM backend: a language model picks targets from the resolver's shortlist and explains.

Two ways to reach a model, both offline-capable and never required:
- a local transformers causal-LM folder (safetensors, ``local_files_only``);
- an OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server) through ``urllib``.
The model may only choose names from the knowledge base; anything else in its reply is ignored.
When the reply is unusable or the model cannot be reached, the resolver's own result is returned
and the answer says so.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from medsee_cli.errors import InputError
from medsee_cli.reasoning.answer import CAVEAT
from medsee_cli.reasoning.resolution import Hypothesis, Resolution
from medsee_cli.reasoning.resolver import Resolver

SHORTLIST = 12
SYSTEM = ("You help find structures on CT and MR scans. Choose the body structures or findings that best "
          "answer the question, only from the list given. Reply with JSON only: "
          '{"targets": [{"name": "<name from the list>", "why": "<one plain sentence>"}]}. '
          'If the question is not about a body structure, symptom or finding, reply {"targets": []}.')
_JSON = re.compile(r"\{.*\}", re.DOTALL)


def build_prompt(resolver: Resolver, question: str) -> tuple[str, list[str]]:
    """The user message, and the candidate names it offers (resolver shortlist + the rest by order)."""
    shortlist = list(resolver.resolve(question).names())
    for entry in resolver.kb.entries:
        if len(shortlist) >= SHORTLIST:
            break
        if entry.name not in shortlist and entry.kind != "structure":
            shortlist.append(entry.name)
    lines = [f"- {name}: {resolver.kb.get(name).description}" for name in shortlist]
    return f"Question: {question}\nCandidates:\n" + "\n".join(lines), shortlist


def parse_reply(reply: str, allowed: set[str]) -> list[tuple[str, str]] | None:
    """[(name, why)] from the model's reply; None when there is no usable JSON in it."""
    found = _JSON.search(reply or "")
    if not found:
        return None
    try:
        raw = json.loads(found.group(0))
    except json.JSONDecodeError:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("targets"), list):
        return None
    picks: list[tuple[str, str]] = []
    for item in raw["targets"]:
        if isinstance(item, dict) and item.get("name") in allowed and item["name"] not in dict(picks):
            picks.append((item["name"], str(item.get("why", "")).strip()[:300]))
    return picks


class LLMReasoner:
    """Same interface as Resolver: ``resolve(question) -> Resolution``."""

    def __init__(self, resolver: Resolver, generate: Callable[[str, str], str], label: str) -> None:
        self.resolver = resolver
        self.kb = resolver.kb
        self.generate = generate
        self.label = label

    def resolve(self, question: str, scan=None) -> Resolution:
        fallback = self.resolver.resolve(question, scan=scan)
        prompt, shortlist = build_prompt(self.resolver, question)
        try:
            reply = self.generate(SYSTEM, prompt)
        except (OSError, urllib.error.URLError, ValueError) as exc:
            return self._fallback(fallback, f"the LLM ({self.label}) could not be used: {exc}")
        picks = parse_reply(reply, set(self.kb.names()))
        if picks is None:
            return self._fallback(fallback, f"the LLM ({self.label}) gave no usable answer")
        if not picks:
            answer = ("The language model found no body structure or finding in this question, so nothing "
                      "was chosen to look for.")
            return Resolution(question, (), True, answer, fallback.excluded, f"llm:{self.label}")
        hypotheses = tuple(
            Hypothesis(name, self.kb.get(name).code, round(1.0 - 0.15 * rank, 4),
                       (why or "Chosen by the language model") + ("" if name in shortlist else " (outside the shortlist)"))
            for rank, (name, why) in enumerate(picks[:5]))
        top = self.kb.get(hypotheses[0].name)
        answer = f"I would look for {top.description}. Why: {hypotheses[0].rationale.rstrip('.')}. {CAVEAT}"
        return Resolution(question, hypotheses, False, answer, fallback.excluded, f"llm:{self.label}")

    def _fallback(self, resolution: Resolution, reason: str) -> Resolution:
        answer = f"{resolution.answer} ({reason[0].upper() + reason[1:]}; this answer comes from the built-in resolver.)"
        return Resolution(resolution.question, resolution.hypotheses, resolution.abstained, answer,
                          resolution.excluded, resolution.backend)


def http_generator(base_url: str, model: str, timeout_s: float) -> Callable[[str, str], str]:
    """A chat call to an OpenAI-compatible server, e.g. http://127.0.0.1:8000 (vLLM) or :11434 (Ollama)."""
    if not base_url.startswith(("http://", "https://")):
        raise InputError(base_url, "is not an http(s) URL")
    url = base_url.rstrip("/")
    url = url if url.endswith("/chat/completions") else (url if url.endswith("/v1") else url + "/v1") + "/chat/completions"

    def generate(system: str, prompt: str) -> str:
        body = json.dumps({"model": model, "temperature": 0, "max_tokens": 300, "messages": [
            {"role": "system", "content": system}, {"role": "user", "content": prompt}]}).encode("utf-8")
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            raw = json.loads(response.read().decode("utf-8"))
        try:
            return str(raw["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError):
            raise ValueError("reply is not an OpenAI-style chat completion") from None

    return generate


def local_generator(folder: Path, max_new_tokens: int) -> Callable[[str, str], str]:
    """Greedy generation with a local transformers causal LM (safetensors only, no download)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise InputError(str(folder), "is not a transformers model folder (no config.json)")
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True, use_safetensors=True)
    model.eval()

    def generate(system: str, prompt: str) -> str:
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template([{"role": "system", "content": system},
                                                  {"role": "user", "content": prompt}],
                                                 tokenize=False, add_generation_prompt=True)
        else:
            text = f"{system}\n\n{prompt}\nAnswer:"
        inputs = tokenizer(text, return_tensors="pt")
        with torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False,
                                    pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id or 0)
        return str(tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True))

    return generate
