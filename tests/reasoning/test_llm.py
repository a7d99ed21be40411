"""The optional LLM backend, offline: a stub OpenAI-style server on 127.0.0.1 and a tiny random model."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from medsee_cli.reasoning.llm import LLMReasoner, http_generator, local_generator, parse_reply


class _Stub(BaseHTTPRequestHandler):
    reply = ""
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(body)
        data = json.dumps({"choices": [{"message": {"content": type(self).reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def stub_server():
    server = HTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Stub
    server.shutdown()
    thread.join()


def test_http_backend_uses_only_knowledge_base_names(stub_server, lexical):
    url, stub = stub_server
    stub.reply = ('Sure! {"targets": [{"name": "pancreatic_lesion", "why": "A mass in the pancreas can block bile."},'
                  ' {"name": "made_up_organ", "why": "x"}, {"name": "bile_duct", "why": "Blocked ducts cause jaundice."}]}')
    reasoner = LLMReasoner(lexical, http_generator(url, "tiny", 5), url)
    result = reasoner.resolve("where is the thing causing his jaundice?")
    assert result.names() == ("pancreatic_lesion", "bile_duct")
    assert result.backend.startswith("llm:") and "pancreas" in result.hypotheses[0].rationale
    sent = stub.seen[-1]
    assert sent["model"] == "tiny" and "bile_duct" in sent["messages"][1]["content"]


def test_http_backend_abstains_when_the_model_says_so(stub_server, lexical):
    url, stub = stub_server
    stub.reply = '{"targets": []}'
    assert LLMReasoner(lexical, http_generator(url, "m", 5), url).resolve("tell me a joke").abstained


def test_unreachable_endpoint_falls_back_to_the_resolver(lexical):
    reasoner = LLMReasoner(lexical, http_generator("http://127.0.0.1:9", "m", 2), "local")
    result = reasoner.resolve("show me the liver")
    assert result.top == "liver" and "could not be used" in result.answer


def test_parse_reply_rejects_non_json():
    assert parse_reply("no json here", {"liver"}) is None
    assert parse_reply('{"targets": [{"name": "liver"}]}', {"liver"}) == [("liver", "")]


def test_tiny_random_local_model_runs_and_garbage_falls_back(tmp_path, lexical):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = ["[UNK]", "[EOS]", "{", "}", "targets", "liver", "name", "question", ":", "the"]
    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]", eos_token="[EOS]", pad_token="[EOS]")
    config = GPT2Config(vocab_size=len(words), n_positions=2048, n_embd=16, n_layer=1, n_head=2)
    GPT2LMHeadModel(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    reasoner = LLMReasoner(lexical, local_generator(tmp_path, max_new_tokens=8), "tiny")
    result = reasoner.resolve("show me the liver")
    assert result.top == "liver"
    assert "no usable answer" in result.answer
