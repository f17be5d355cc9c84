"""One module per sheet of the master workbook, each with a ``write(ctx)``."""
