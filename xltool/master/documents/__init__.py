"""The documents written from a master: the 執行成果 document (.odt, .docx, .html)
and the plan document, in the plan document's layout."""
