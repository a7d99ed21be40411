"""One `segment` case in three stages: read (I/O), infer (the model), write (I/O).

`CaseRunner` holds a batch's state (options, target texts, the model, opened by the first case
that needs it). ``case`` runs the three stages one after another; an executor may instead run
``read`` and ``write`` on other threads while the model works on the next case (`pipeline`),
or run whole cases in other processes (`ray_executor`). Every stage turns a case's failure
into that case's `CaseResult`; a failure of the model itself (`ModelFailed`) ends the batch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, TypeVar, Union

from medsee_cli.engine.progress import LOADING, READING, WRITING, Progress, Step
from medsee_cli.errors import MedseeError
from medsee_cli.io.volume import Volume
from medsee_cli.services.batch_inputs import Case
from medsee_cli.services.segment import OUTPUT_FILES, CaseResult, SegmentOptions
from medsee_cli.services.segment_model import ModelFailed, ModelLoader

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Ready:
    """A case read and checked, waiting for the model."""

    case: Case
    key: str
    folder: Path
    volume: Volume


@dataclass(frozen=True)
class Found:
    """A case the model has run on, waiting to be written."""

    ready: Ready
    findings: list[Any]
    run: Any  # engine.stream.EngineRun


class CaseRunner:
    """A batch's state: options, target names and texts, the key options, the model (lazily).

    ``infer`` may run on up to ``options.execution.cases_at_once`` threads at once: each gets
    its own engine on the one model, whose image encoder they share (`engine.shared_encoder`:
    their slices are batched together); then only the first opening of the model is reported
    to ``progress`` and the engine's slices are not (a display is drawn from one thread)."""

    def __init__(self, options: SegmentOptions, loader: ModelLoader, names: list[str], texts: list[str],
                 keyed: dict[str, Any], progress: Progress) -> None:
        self.options, self.loader, self.names, self.texts, self.keyed = options, loader, names, texts, keyed
        self.progress = progress
        self.opened: Optional[tuple[Any, Any]] = None
        self.concurrent = options.execution.cases_at_once
        self.shared: Any = None  # engine.shared_encoder.SharedEncoder, made when cases run at once
        self._lock = threading.Lock()
        self._own = threading.local()

    def close(self) -> None:
        """Stop the shared encoder's thread, if one was started."""
        if self.shared is not None:
            self.shared.close()
            self.shared = None

    def case(self, case: Case) -> CaseResult:
        """All three stages on this thread (progress heard here)."""
        self.progress(Step(READING, item=case.ident))
        read = self.read(case)
        if isinstance(read, CaseResult):
            return read
        found = self.infer(read)
        if isinstance(found, CaseResult):
            return found
        self.progress(Step(WRITING))
        return self.write(found)

    # ----- stages: each returns the case's result when it ends there --------------------
    def read(self, case: Case) -> Union[Ready, CaseResult]:
        """Key the case; a finished one is skipped; else read and check its image (no progress
        is reported from here: it may run on a reading thread)."""
        return self._guarded(case, lambda: self._read(case))

    def infer(self, ready: Ready) -> Union[Found, CaseResult]:
        """Run the targets on the case (opens the model the first time); this thread only."""
        return self._guarded(ready.case, lambda: self._infer(ready))

    def write(self, found: Found) -> CaseResult:
        """Write the case's files into a private folder, record them last, swap it in."""
        return self._guarded(found.ready.case, lambda: self._write(found))

    def _guarded(self, case: Case, work: Callable[[], T]) -> Union[T, CaseResult]:
        try:
            return work()
        except ModelFailed:  # the model, not the case: the batch cannot go on
            raise
        except MedseeError as exc:
            return CaseResult(case.label, case.ident, False, str(exc), exc.exit_code)
        except Exception as exc:  # one case's failure never ends the batch
            log.debug("case %s failed", case.ident, exc_info=exc)
            detail = " ".join(str(exc).split())[:200]
            return CaseResult(case.label, case.ident, False, f"{case.label}: {exc.__class__.__name__}: {detail}", 1)

    def before_publish(self) -> None:
        """Called just before a finished case replaces its folder; raising keeps it out."""

    def _read(self, case: Case) -> Union[Ready, CaseResult]:
        from medsee_cli.services.case_key import case_key
        from medsee_cli.services.completion import is_finished, read_record
        from medsee_cli.services.inputs import read_input, require_3d
        from medsee_cli.services.results import check_formats, check_result_folder

        options = self.options
        folder = Path(options.out) / case.ident
        key = case_key(case, self.loader.identity, self.keyed)
        if is_finished(folder, key):
            outputs = {k: str(folder / n) if (folder / n).is_file() else None for k, n in OUTPUT_FILES.items()}
            return CaseResult(case.label, case.ident, True, outputs=outputs, key=key, skipped=True)
        if folder.exists() and read_record(folder) is None:
            check_result_folder(folder, options.overwrite, options.formats)
        volume = read_input(case.source)
        require_3d(volume, case.label)
        if options.formats is not None:
            check_formats(options.formats, volume, case.label)
        return Ready(case, key, folder, volume)

    def _infer(self, ready: Ready) -> Found:
        from medsee_cli.engine.progress import silent
        from medsee_cli.services.targets import run_targets

        engine, encoded = self._engine()
        progress = self.progress if self.concurrent == 1 else silent
        findings, run = run_targets(engine, ready.volume, self.names, encoded, self.texts, progress)
        return Found(ready, findings, run)

    def _engine(self) -> tuple[Any, Any]:
        """The model, opened by the first case that needs it; this thread's engine on it."""
        with self._lock:
            if self.opened is None:
                self.progress(Step(LOADING))
                try:
                    self.opened = self.loader.open(self.options.engine)
                except MedseeError as exc:  # a damaged checkpoint (exit 5), a missing encoder...
                    raise ModelFailed(exc) from exc
            engine, encoded = self.opened
            if self.concurrent == 1:
                return engine, encoded
            own = getattr(self._own, "engine", None)
            if own is None:
                from medsee_cli.engine.shared_encoder import SharedEncoder, SharedModel
                from medsee_cli.engine.stream import SliceEngine

                if self.shared is None:
                    self.shared = SharedEncoder(engine.model, engine.device, engine.dtype,
                                                engine.batch_size * self.concurrent)
                own = self._own.engine = SliceEngine(SharedModel(engine.model, self.shared), engine.options)
            return own, encoded

    def _write(self, found: Found) -> CaseResult:
        from medsee_cli.io.slice_numbers import slice_numbers
        from medsee_cli.services.batch_inputs import output_warnings
        from medsee_cli.services.completion import publish, staging_root, write_record
        from medsee_cli.services.results import write_findings

        ready, options = found.ready, self.options
        case, folder = ready.case, ready.folder
        staged = staging_root(Path(options.out)) / case.ident
        outputs, warnings = write_findings(ready.volume, found.findings, staged, True, options.model, "medsee segment",
                                           options.formats, modality=found.run.modality)
        write_record(staged, ready.key, case.ident)
        self.before_publish()
        publish(staged, folder)
        outputs = {k: None if v is None else str(folder / Path(v).name) for k, v in outputs.items()}
        return CaseResult(case.label, case.ident, True, findings=found.findings, outputs=outputs,
                          stats=found.run.stats(), warnings=output_warnings(case, options.formats) + tuple(warnings),
                          slice_numbers=slice_numbers(ready.volume).to_dict(), key=ready.key)
