"""Writing an evaluation's outputs: per-item CSV, summary JSON, overlays, plots, Markdown/HTML."""

from medsee_cli.eval.report.writer import write_outputs

__all__ = ["write_outputs"]
