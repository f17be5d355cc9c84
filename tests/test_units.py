"""主辦單位 expansion: names, groups, aliases, ranges and shared suffixes."""
import pytest

from xltool.plan.units import Unit, UnitDirectory, split_names

UNITS = [Unit(f"第{n}課", groups=("各單位", "各業務課")) for n in "一二三四五六"] + [
    Unit("金門辦事處", groups=("各單位",)),
    Unit("澎湖辦事處", groups=("各單位",)),
    Unit("秘書室", groups=("各單位",), aliases=("研考",)),
    Unit("主計室", groups=("各單位",), aliases=("會計室",)),
]
D = UnitDirectory(UNITS)


@pytest.mark.parametrize("text, expected", [
    ("第五課", ["第五課"]),
    ("各業務課", [f"第{n}課" for n in "一二三四五六"]),
    ("研考", ["秘書室"]),
    ("會計室", ["主計室"]),
    ("第二課至第四課", ["第二課", "第三課", "第四課"]),
    ("第四課至第二課", ["第二課", "第三課", "第四課"]),
    ("金門、澎湖辦事處", ["金門辦事處", "澎湖辦事處"]),
    ("秘書室\n第五課\n金門、澎湖 辦事處", ["第五課", "金門辦事處", "澎湖辦事處", "秘書室"]),
    ("第六課，秘書室;主計室,第一課", ["第一課", "第六課", "秘書室", "主計室"]),
    ("第一課、第一課", ["第一課"]),
])
def test_expand(text, expected):
    names, unknown = D.expand(text)
    assert unknown == []
    assert names == expected


def test_all_units_group_follows_sheet_order():
    names, _ = D.expand("各單位")
    assert names == [u.name for u in UNITS]


def test_unknown_names_are_reported_not_dropped():
    names, unknown = D.expand("第五課、總務室、第七課至第九課")
    assert names == ["第五課"]
    assert unknown == ["總務室", "第七課至第九課"]


def test_split_names_normalises_full_width_and_blanks():
    assert split_names(" 第一課 ／第二課；；\n") == ["第一課", "第二課"]


def test_a_group_of_every_unit_lists_each_once_in_sheet_order():
    """10,000 units in one group (the benchmark's plan): each once, however many."""
    units = [Unit(f"單位{n:05d}", groups=("全體", "全體")) for n in range(10_000)]
    units[3] = Unit("單位00003", groups=("全體",), aliases=("全體",))  # also its alias
    d = UnitDirectory(units)
    assert d.by_name["全體"] == ["單位00003"] + [u.name for u in units if u.name != "單位00003"]
    names, unknown = d.expand("全體")
    assert unknown == [] and names == [u.name for u in units]
