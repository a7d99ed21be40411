"""The items of ``ask --questions``: one line of the question file on one case, run or skipped.

An item writes ``OUT/<case>/<id>/``: what ``ask --out`` writes (mask, boxes, preview, seg.dcm for
DICOM sources, provenance) plus ``answer.json`` (the ``medsee.ask/1`` document; its ``outputs``
are file names in that folder, so a moved OUT stays valid) and ``done.json`` (`completion`),
written last into a private staging folder that then takes the item folder's place. An
abstention is a finished item without mask files. Its key (`item_key`) covers the case's key
(`case_key`: input bytes, model identity, the options that change answers, `key_options`) and
the question text; an item whose folder holds a record with that key and intact files is
skipped. A case's input is hashed once and its volume read once, by the first item with work
to do; a failure is that item's result, with one reason (the model failing to open ends the run).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from medsee_cli.engine.progress import READING, Progress, Step
from medsee_cli.errors import ExitCode, MedseeError
from medsee_cli.services.ask import AskOptions
from medsee_cli.services.run_log import RunLog
from medsee_cli.services.run_summary import RunItem

if TYPE_CHECKING:
    from medsee_cli.io.volume import Volume
    from medsee_cli.services.ask import AskSession
    from medsee_cli.services.question_file import QuestionLine
    from medsee_cli.services.question_work import CaseWork

ANSWER_NAME = "answer.json"
SKIPPED = "finished earlier with the same input, model, options and question"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemResult:
    """One item: ``item`` is ``CASE/ID`` (``line N`` for a line that could not run); ``error``
    is its one line for the console (it may name the input as given), ``reason`` the same
    without the input's path (summary and log); ``answer`` the ``medsee.ask/1`` document."""

    item: str
    image: str
    ok: bool
    error: str = ""
    reason: str = ""
    exit_code: int = 0
    skipped: bool = False
    key: str = ""
    folder: Optional[Path] = None
    answer: Optional[dict[str, Any]] = None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "image": self.image or None, "ok": self.ok, "skipped": self.skipped,
                "error": self.error or None, "folder": None if self.folder is None else str(self.folder),
                "answer": self.answer, "warnings": list(self.warnings)}

    def summary_item(self) -> RunItem:
        if not self.ok:
            return RunItem(self.item, "failed", self.reason)
        return RunItem(self.item, "skipped" if self.skipped else "done", SKIPPED if self.skipped else "",
                       warnings=self.warnings)


def item_key(case_key: str, question: str) -> str:
    """An item's key: its case's key (input bytes, model, options) and the question text."""
    return hashlib.sha256(json.dumps({"case": case_key, "question": question}).encode()).hexdigest()


def key_options(options: AskOptions) -> dict[str, Any]:
    """The options that change an answer, as plain JSON values (not speed, paths of inputs or
    outputs, or --overwrite)."""
    from medsee_cli.services.case_key import result_options

    return {"command": "ask", "engine": result_options((), (), None, options.engine)["engine"],
            "max_targets": options.max_targets, "related": options.related, "encoder": options.encoder,
            "encoder_runtime": options.encoder_runtime, "llm": options.llm, "llm_model": options.llm_model}


class _CaseVolume:
    """A case's volume, read by the first of its items that has work to do; a failure to read
    it is every such item's failure, without reading it again."""

    def __init__(self, work: CaseWork) -> None:
        self.work = work
        self._volume: Optional[Volume] = None
        self._error: Optional[MedseeError] = None

    def get(self) -> Volume:
        from medsee_cli.services.inputs import read_input, require_3d

        if self._error is not None:
            raise self._error
        if self._volume is None:
            case = self.work.case
            try:
                volume = read_input(case.source)
                require_3d(volume, case.label)
            except MedseeError as exc:
                self._error = exc
                raise
            self._volume = volume
        return self._volume


class ItemRunner:
    """A run's items, case by case: the session (encoder, reasoner, model), the log, OUT."""

    def __init__(self, options: AskOptions, out: Path, session: AskSession, identity: str, events: RunLog,
                 progress: Progress) -> None:
        self.options, self.out, self.session, self.identity = options, out, session, identity
        self.events, self.progress = events, progress
        self.keyed = key_options(options)

    def run(self, work: list[CaseWork]) -> Iterator[ItemResult]:
        """Every item of ``work`` in order, after removing what a killed run left."""
        from medsee_cli.io.atomic import remove_stale_partials
        from medsee_cli.services.completion import staging_root

        for folder in [self.out, *(p for p in self.out.iterdir() if p.is_dir() and not p.name.startswith("."))]:
            remove_stale_partials(folder, folders=True)  # what a killed run left, in OUT and in case folders
        try:
            for case_work in work:
                yield from self._case(case_work)
        finally:
            shutil.rmtree(staging_root(self.out), ignore_errors=True)
            for case_work in work:  # `completion.publish` moves an old item folder aside in its case folder
                shutil.rmtree(staging_root(self.out / case_work.case.ident), ignore_errors=True)

    def _case(self, work: CaseWork) -> Iterator[ItemResult]:
        from medsee_cli.services.case_key import case_key

        case = work.case
        volume = _CaseVolume(work)
        unreadable = ""
        try:
            base = case_key(case, self.identity, self.keyed)  # reads every byte of the input, once per case
        except OSError as exc:
            base, unreadable = "", f"{case.label}: cannot be read ({exc.strerror or exc})"
        for line in work.lines:
            item = f"{case.ident}/{line.ident}"
            self.progress(Step(READING, item=item))
            self.events.event("case-start", item)
            if unreadable:
                result = self._failed(item, work, unreadable, ExitCode.ITEMS_FAILED, "")
            else:
                result = self._guarded(item, work, line, item_key(base, line.question), volume)
            if not result.ok:
                self.events.event("case-fail", item, key=result.key or None, reason=result.reason)
            else:
                self.events.event("case-skip" if result.skipped else "case-done", item, key=result.key,
                                  warnings=list(result.warnings) or None)
            yield result

    def _guarded(self, item: str, work: CaseWork, line: QuestionLine, key: str, volume: _CaseVolume) -> ItemResult:
        """One item; its failure becomes its result (a model that cannot open ends the run)."""
        from medsee_cli.services.segment_model import ModelFailed

        try:
            return self._item(item, work, line, key, volume)
        except ModelFailed as failed:  # the model, not the item: the run cannot go on
            raise failed.error from None
        except MedseeError as exc:
            return self._failed(item, work, str(exc), exc.exit_code, key)
        except Exception as exc:  # one item's failure never ends the batch
            log.debug("item %s failed", item, exc_info=exc)
            detail = " ".join(str(exc).split())[:200]
            return self._failed(item, work, f"{work.case.label}: {exc.__class__.__name__}: {detail}",
                                ExitCode.ITEMS_FAILED, key)

    def _item(self, item: str, work: CaseWork, line: QuestionLine, key: str, volume: _CaseVolume) -> ItemResult:
        from medsee_cli.io.atomic import write_text_atomic
        from medsee_cli.services.batch_inputs import output_warnings
        from medsee_cli.services.completion import is_finished, publish, read_record, staging_root, write_record
        from medsee_cli.services.results import check_result_folder

        case = work.case
        folder = self.out / case.ident / line.ident
        if is_finished(folder, key):
            answer = json.loads((folder / ANSWER_NAME).read_text(encoding="utf-8"))
            return ItemResult(item, case.label, True, skipped=True, key=key, folder=folder, answer=answer)
        if folder.exists() and read_record(folder) is None:
            check_result_folder(folder, self.options.overwrite)
        staged = staging_root(self.out) / case.ident / line.ident
        shutil.rmtree(staged, ignore_errors=True)
        staged.parent.mkdir(parents=True, exist_ok=True)
        result = self.session.answer(volume.get(), case.label, line.question, staged)
        staged.mkdir(exist_ok=True)  # an abstention writes no files: its folder holds the answer only
        outputs = {k: None if v is None else Path(v).name for k, v in result.outputs.items()}  # in the item folder
        warnings = (output_warnings(case, None) if outputs["mask"] else ()) + result.warnings  # "read from its NIfTI"
        result = replace(result, outputs=outputs, warnings=warnings)
        answer = result.to_dict()
        write_text_atomic(staged / ANSWER_NAME, json.dumps(answer, indent=1) + "\n")
        write_record(staged, key, item)  # last: the item is finished once it is there
        folder.parent.mkdir(exist_ok=True)
        publish(staged, folder)
        return ItemResult(item, case.label, True, key=key, folder=folder, answer=answer, warnings=result.warnings)

    @staticmethod
    def _failed(item: str, work: CaseWork, error: str, code: int, key: str) -> ItemResult:
        """A failed item: ``ITEM: error`` for the console (``error`` names the input as given),
        and for the summary ``error`` with the case id in place of the input's path."""
        label, ident = work.case.label, work.case.ident
        reason = " ".join(error.replace(label, ident).split())  # folder names may name patients
        return ItemResult(item, label, False, f"{item}: {error}", reason, code, key=key)
