"""Output writers: DICOM-SEG, NIfTI label maps, JSON boxes, RTSTRUCT and preview PNG.

The entry points later layers call are `write_result` (a label map on a volume's grid -> a
result folder) and `read_result` (a result folder, label-map NIfTI or DICOM-SEG -> `Result`).
Every file is written atomically and never replaces an existing one without ``overwrite``.
"""

from medsee_cli.writers.labels import Code, Label, LabelTable, read_label_table
from medsee_cli.writers.options import FORMATS, WriterOptions
from medsee_cli.writers.result import FILES, Result, read_result, write_format, write_result

__all__ = ["FILES", "FORMATS", "Code", "Label", "LabelTable", "Result", "WriterOptions", "read_label_table",
           "read_result", "write_format", "write_result"]
