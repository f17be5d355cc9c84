"""The reading layer: the only code that opens untrusted spreadsheet files.

``gate`` checks a file's structure and bounds what a parser would build;
``workbook`` then reads the cell values (python-calamine, or the streaming ODF
reader); ``isolation`` runs all of it in worker processes with hard limits.
"""
