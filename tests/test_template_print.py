"""The 填報表 prints readably: A4 landscape, one page wide, every column on every page,
and type of 9 pt or more after scaling, as LibreOffice prints the .xlsx and the .ods.

The size is measured on the page (lo_pdf: a Chinese character is one em wide), for the
unit with the most items of the worked example. Excel prints the .xlsx at a slightly
larger scale: its columns are 8 px a width unit plus 5 px with the template's Arial
default font, 8 × 139 + 13 × 5 = 1177 px = 883 pt, on 784 pt of A4 landscape between
the margins: 88 %, 9.7 pt.
"""
from datetime import datetime

import pytest
from lo_pdf import pages, to_pdf

from xltool.forms import fields as F
from xltool.forms.template import template_filename, write_templates
from xltool.plan import load_plan

pytestmark = pytest.mark.libreoffice
A4_LANDSCAPE = (842, 595)
MIN_POINTS = 9.0
MARGIN = 0.4 * 72  # left and right, as both writers set them (1 cm in the .ods)


@pytest.fixture(scope="module")
def printed(soffice, example_plan, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("print")
    plan = load_plan(example_plan)
    unit = max((u.name for u in plan.units), key=lambda u: len(plan.items_for(u)))
    write_templates(plan, tmp, units=[unit], formats=("xlsx", "ods"),
                    generated=datetime(2020, 6, 20))
    return plan, unit, {fmt: pages(to_pdf(soffice, tmp / template_filename(plan, unit, fmt),
                                          tmp / fmt)) for fmt in ("xlsx", "ods")}


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_every_page_is_a4_landscape_with_type_of_9_pt_or_more(printed, fmt):
    _, _, out = printed
    for page in out[fmt]:
        assert (round(page.width), round(page.height)) == A4_LANDSCAPE, page.number
        assert page.min_cjk_points() >= MIN_POINTS, (fmt, page.number, page.min_cjk_points())


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_the_form_is_one_page_wide_with_its_header_on_every_page(printed, fmt):
    plan, unit, out = printed
    guide, *form = out[fmt]
    assert "填報說明" in "".join(guide.texts)
    ids = [i.id for i in plan.items_for(unit)]
    seen = []
    for page in form:
        texts = page.texts
        assert texts.count("編號") == 1 and "佐證資料" in texts, page.number  # header repeated
        assert all(page.width - MARGIN + 1 >= w.x1 and w.x0 >= MARGIN - 1 for w in page.words
                   if w.text.strip()), page.number  # nothing beyond the printable width
        first_column = [w for w in page.words if w.x0 < MARGIN + 5 and w.text in ids]
        seen += [w.text for w in sorted(first_column, key=lambda w: w.y0)]
    assert seen == ids  # every item, in order, each printed once


def test_the_scale_comes_from_narrow_columns_not_a_fixed_zoom(printed):
    """Fit to one page wide stays (a zoom would cut columns when a font is wider); the
    type size follows from the widths: 11 pt cells scaled to 85 % or more."""
    _, _, out = printed
    for fmt in ("xlsx", "ods"):
        sizes = [s for w in out[fmt][1].words if (s := w.cjk_points)]
        scale = min(sizes) / 11  # the cells' 11 pt
        assert scale >= 0.84, (fmt, scale)
        assert any(abs(s - 14 * scale) < 0.3 for s in sizes), fmt  # the 14 pt title, alike
    assert sum(c.template_width for c in F.COLUMNS) == 139
