"""The master: merge, score, and write the master workbook, the report, the PDF
and the correction copies."""
