# xltool — set-up, demo and tests. `make demo` and `make test` need only Python 3.10+.
PYTHON ?= python3
VENV := .venv
ifeq ($(OS),Windows_NT)
BIN := $(VENV)/Scripts
else
BIN := $(VENV)/bin
endif
DEMO := build/demo

.PHONY: venv demo test lint codes golden examples pictures bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

demo: venv
	rm -rf $(DEMO)
	$(BIN)/xltool check examples/kaohsiung-109/plan.xlsx
	$(BIN)/xltool template examples/kaohsiung-109/plan.xlsx -o $(DEMO)/templates --format both
	$(BIN)/xltool status examples/kaohsiung-109/plan.xlsx examples/kaohsiung-109/returns
	$(BIN)/xltool merge examples/kaohsiung-109/plan.xlsx examples/kaohsiung-109/returns \
		-o $(DEMO)/master.xlsx --report $(DEMO)/report.json
	$(BIN)/xltool report examples/kaohsiung-109/plan.xlsx $(DEMO)/master.xlsx \
		-o $(DEMO)/成果.odt -o $(DEMO)/成果.docx -o $(DEMO)/成果.html
	$(BIN)/xltool merge examples/taichung-109/plan.xlsx examples/taichung-109/returns -o $(DEMO)/branches/臺中分局.xlsx
	$(BIN)/xltool merge examples/tainan-109/plan.xlsx examples/tainan-109/returns -o $(DEMO)/branches/臺南分局.xlsx
	$(BIN)/xltool rollup $(DEMO)/master.xlsx $(DEMO)/branches/臺中分局.xlsx $(DEMO)/branches/臺南分局.xlsx \
		-o $(DEMO)/附表2-彙整.xlsx -o $(DEMO)/附表2-彙整.odt
	@echo ""
	@echo "示範完成。產生的檔案："
	@echo "  填報表：$(DEMO)/templates/"
	@echo "  總表：  $(DEMO)/master.xlsx（以 Excel 或 LibreOffice 開啟）"
	@echo "  報告：  $(DEMO)/report.json"
	@echo "  成果：  $(DEMO)/成果.odt、成果.docx、成果.html（執行成果文件與網頁）"
	@echo "  彙整：  $(DEMO)/附表2-彙整.xlsx、附表2-彙整.odt（三個分局總表彙整的附表2）"
	@printf '%s\n' '之後執行 xltool：$(BIN)/xltool --help（或先啟用虛擬環境：source $(BIN)/activate，Windows 為 .venv\Scripts\activate）'

test: venv
	$(BIN)/python -m pytest -q -n 2 --durations=15

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy

# README's table of issue codes, from the catalogue in xltool/codes.py
codes: venv
	$(BIN)/python -m xltool.codes

# The golden master (tests/golden/): regenerate on purpose, after checking the new master
golden: venv
	$(BIN)/python tests/golden.py

examples: venv
	$(BIN)/python examples/build_examples.py

bench: venv
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/bench.py

pictures: venv
	$(BIN)/python examples/render_pages.py

clean:
	rm -rf $(VENV) build *.egg-info
