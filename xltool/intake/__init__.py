"""Intake: recognise each return and check every cell (the only stage that reads
untrusted returns, through xltool.reading)."""
