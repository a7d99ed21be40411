"""Output writers: DICOM-SEG, NIfTI label maps, JSON boxes, RTSTRUCT and preview PNG.

The entry points later layers call are `write_result` (a label map on a volume's grid -> a
result folder; returns a `WrittenResult`: the files written, and the outputs that could not
honestly be made with the reason) and `read_result` (a result folder, label-map NIfTI or
DICOM-SEG -> `Result`).
Every file is written atomically and never replaces an existing one without ``overwrite``.
"""

from medsee_cli.reasoning.codes import Code
from medsee_cli.writers.labels import Label, LabelTable, read_label_table
from medsee_cli.writers.options import FORMATS, WriterOptions
from medsee_cli.writers.result import FILES, Result, WrittenResult, read_result, write_format, write_result
from medsee_cli.writers.skipped import OutputNotMade

__all__ = ["FILES", "FORMATS", "Code", "Label", "LabelTable", "OutputNotMade", "Result", "WriterOptions",
           "WrittenResult", "read_label_table", "read_result", "write_format", "write_result"]
