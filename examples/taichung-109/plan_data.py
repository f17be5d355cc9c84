"""經濟部標準檢驗局臺中分局 109 年度提升服務效能執行計畫: a generated branch plan.

Not a transcription: a second branch of the same 局, made for the roll-up
example (``xltool rollup``). It shares the 109 scheme with the Kaohsiung plan
(``BASE``: the same 構面 and points, year, period, grade bands and lists) but
has its own units and a selection of the base plan's items, led by its own
units. ``make examples`` builds ``plan.xlsx`` and the filled returns from it;
the returns are scored to give ``TABLE2``.
"""

BASE = "kaohsiung-109"  # the plan whose scheme, items' texts and lists this one takes

INFO = {
    "計畫名稱": "經濟部標準檢驗局臺中分局 109 年度提升服務效能執行計畫",
    "機關名稱": "經濟部標準檢驗局臺中分局",
    "年度": 109,
    "填報期間": "1-6月",
    "考核年月": "109.07",
    "繳交期限": (2020, 7, 10),
    "承辦單位": "秘書室",
    "承辦人": "研考承辦人",
    "聯絡電話": "(04)000-0000 分機 000",
    "電子郵件": "secretariat@taichung.example",
    "簡稱": "提升服務效能",
    "時區": "+08:00",
}

_ALL, _BIZ = "各單位", "各業務課"
UNITS = [
    ("第一課", "業務課", [_ALL, _BIZ], [], "section1@taichung.example"),
    ("第二課", "業務課", [_ALL, _BIZ], [], "section2@taichung.example"),
    ("第三課", "業務課", [_ALL, _BIZ], [], "section3@taichung.example"),
    ("第四課", "業務課", [_ALL, _BIZ], [], "section4@taichung.example"),
    ("秘書室", "輔助單位", [_ALL], ["研考"], "secretariat@taichung.example"),
    ("人事室", "輔助單位", [_ALL], [], "personnel@taichung.example"),
    ("主計室", "輔助單位", [_ALL], ["會計室"], "accounting@taichung.example"),
]

# The base plan's items this branch carries out, and who leads each here.
ITEMS_FROM_BASE = {
    "1-1-1": _BIZ, "1-1-2": _BIZ, "1-1-3-1": _ALL, "1-2-1-4": "秘書室", "1-2-2-6": _ALL,
    "1-2-3-2": "研考", "1-2-4-1": "第四課",
    "2-1-1": _ALL, "2-1-2-3": _BIZ, "2-1-3": _ALL, "2-1-4-1": "第一課、第二課", "2-2-1": _BIZ,
    "2-3-1": _BIZ,
    "3-1-1": _ALL, "3-2-1": _ALL,
    "4-1-1-2": "人事室", "4-1-2": _BIZ, "4-2-1-1": "研考", "4-2-1-2": _ALL,
    "5-1-1": _ALL, "5-2-1": _ALL,
}

TABLE2 = {"基礎服務": 186, "服務遞送": 280, "服務量能": 170, "服務評價": 174, "開放創新": 85}
TOTAL, GRADE = 895, "甲"

RETURN_FORMATS = {"第四課": "ods"}
