"""The forms: field declarations, template identity, the template and the starter
plan, the format-neutral book and its .xlsx and .ods writers."""
