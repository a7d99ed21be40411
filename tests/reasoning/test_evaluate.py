from __future__ import annotations

import json

import pytest

from medsee_cli.errors import InputError
from medsee_cli.reasoning.evaluate import evaluate_questions, read_questions


def _write(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_report_counts_hits_top3_and_abstentions(tmp_path, lexical):
    path = _write(tmp_path / "q.jsonl", [
        {"query": "show me the left kidney", "targets": ["kidney_left"]},
        {"query": "show me the left kidney", "targets": ["liver"]},
        {"query": "what's the weather", "targets": []},
        "",
        {"query": "the liver", "targets": []},
    ])
    report = evaluate_questions(path, lexical)
    data = report.to_dict()
    assert set(data) == {"n", "top1", "top3", "abstain_accuracy", "items"}
    assert (data["n"], data["top1"], data["abstain_accuracy"]) == (4, 0.5, 0.5)
    assert data["items"][0]["hit"] and not data["items"][1]["hit"]
    assert data["items"][2]["abstained"] and data["items"][3]["line"] == 5
    json.dumps(data)


@pytest.mark.parametrize("line, reason", [
    ("{not json", "not valid JSON"),
    ('{"targets": []}', '"query"'),
    ('{"query": "x", "targets": "liver"}', '"targets"'),
    ('{"query": "x", "targets": ["no_such_target"]}', "no_such_target"),
    ('{"query": "x", "targets": [], "style": 3}', '"style"'),
])
def test_bad_lines_name_file_and_line(tmp_path, lexical, line, reason):
    path = _write(tmp_path / "bad.jsonl", [{"query": "liver", "targets": ["liver"]}, line])
    with pytest.raises(InputError, match=reason) as info:
        evaluate_questions(path, lexical)
    assert info.value.item == f"{path}:2"


def test_missing_or_empty_file(tmp_path, lexical):
    with pytest.raises(InputError, match="cannot be read"):
        evaluate_questions(tmp_path / "none.jsonl", lexical)
    with pytest.raises(InputError, match="no questions"):
        evaluate_questions(_write(tmp_path / "empty.jsonl", [""]), lexical)


def test_a_style_tag_is_kept_for_per_style_figures(tmp_path):
    path = _write(tmp_path / "q.jsonl", [{"query": "RUQ pain", "targets": ["gallbladder"], "style": "clinician"},
                                         {"query": "the liver", "targets": ["liver"]}])
    assert [q.style for q in read_questions(path)] == ["clinician", ""]
