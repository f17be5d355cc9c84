"""Dates as people here write them: ROC years accepted wherever a date is typed,
and shown as ROC."""
from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner

import xltool.mail.collect
from xltool.cells import local_text, parse_date, roc_date, roc_prose_date
from xltool.cli import cli


@pytest.mark.parametrize("typed", ["115/07/01", "115-07-01", "115年7月1日", "115.7.1", "2026-07-01",
                                   "2026/7/1", "１１５／０７／０１"])
def test_roc_and_gregorian_dates_are_one_date(typed):
    assert parse_date(typed) == date(2026, 7, 1)


@pytest.mark.parametrize("bad", ["115/13/01", "115/02/30", "明天", "20260701x"])
def test_impossible_dates_are_refused(bad):
    with pytest.raises((ValueError, OverflowError)):
        parse_date(bad)


def test_dates_are_shown_in_roc_years():
    assert roc_date(date(2026, 7, 8)) == "115/07/08"
    assert roc_prose_date(date(2026, 7, 8)) == "115年7月8日"
    instant = datetime(2026, 7, 8, 6, 0, tzinfo=timezone.utc)
    from xltool.cells import parse_offset

    assert local_text(instant, parse_offset("+08:00")) == "115/07/08 14:00"


@pytest.mark.parametrize("since, before", [("115/07/01", "115年7月10日"),
                                           ("2026-07-01", "2026/07/10")])
def test_collect_takes_roc_dates_for_since_and_before(since, before, example_plan, tmp_path,
                                                      monkeypatch):
    asked = []

    def fake_imap(settings):
        asked.append(settings)
        return iter(())

    monkeypatch.setattr(xltool.mail.collect, "messages_from_imap", fake_imap)
    res = CliRunner().invoke(cli, ["collect", "--plan", str(example_plan), "-o", str(tmp_path / "in"),
                                   "--imap", "127.0.0.1:1", "--since", since, "--before", before],
                             env={"XLTOOL_IMAP_PASSWORD": "x"})
    assert res.exit_code == 0, res.output
    (settings,) = asked
    assert (settings.since, settings.before) == (date(2026, 7, 1), date(2026, 7, 10))


def test_a_date_that_is_not_one_is_a_clear_error(example_plan, tmp_path):
    res = CliRunner().invoke(cli, ["collect", "--plan", str(example_plan), "-o", str(tmp_path / "in"),
                                   "--imap", "127.0.0.1:1", "--since", "七月一日"])
    assert res.exit_code == 2
    assert "「七月一日」不是日期" in res.output and "115/07/01" in res.output
