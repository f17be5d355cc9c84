"""xltool: plan → per-unit templates → returns → scored master workbook."""

__version__ = "0.1.0"
