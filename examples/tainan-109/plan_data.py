"""經濟部標準檢驗局臺南分局 109 年度提升服務效能執行計畫: a generated branch plan.

Not a transcription: a third branch of the same 局, made for the roll-up
example (``xltool rollup``). It shares the 109 scheme with the Kaohsiung plan
(``BASE``) but has its own units, among them an office, and another selection
of the base plan's items. ``make examples`` builds ``plan.xlsx`` and the filled
returns from it; the returns are scored to give ``TABLE2``.
"""

BASE = "kaohsiung-109"

INFO = {
    "計畫名稱": "經濟部標準檢驗局臺南分局 109 年度提升服務效能執行計畫",
    "機關名稱": "經濟部標準檢驗局臺南分局",
    "年度": 109,
    "填報期間": "1-6月",
    "考核年月": "109.07",
    "繳交期限": (2020, 7, 10),
    "承辦單位": "秘書室",
    "承辦人": "研考承辦人",
    "聯絡電話": "(06)000-0000 分機 000",
    "電子郵件": "secretariat@tainan.example",
    "簡稱": "提升服務效能",
    "時區": "+08:00",
}

_ALL, _BIZ = "各單位", "各業務課"
UNITS = [
    ("第一課", "業務課", [_ALL, _BIZ], [], "section1@tainan.example"),
    ("第二課", "業務課", [_ALL, _BIZ], [], "section2@tainan.example"),
    ("第三課", "業務課", [_ALL, _BIZ], [], "section3@tainan.example"),
    ("嘉義辦事處", "辦事處", [_ALL], [], "chiayi@tainan.example"),
    ("秘書室", "輔助單位", [_ALL], ["研考"], "secretariat@tainan.example"),
    ("人事室", "輔助單位", [_ALL], [], "personnel@tainan.example"),
    ("政風室", "輔助單位", [_ALL], [], "ethics@tainan.example"),
]

ITEMS_FROM_BASE = {
    "1-1-1": _BIZ, "1-1-3-1": _ALL, "1-1-3-2": _ALL, "1-2-1-1": "秘書室、嘉義辦事處", "1-2-2-7": _ALL,
    "2-1-1": _ALL, "2-1-2-2": _ALL, "2-1-4-2": _BIZ, "2-1-4-5": _ALL, "2-2-2": _BIZ, "2-3-2": _BIZ,
    "3-1-1": _ALL, "3-2-1": _ALL,
    "4-1-1-1": "第三課", "4-1-1-3": "人事室", "4-2-1-1": "研考", "4-2-1-3": _ALL,
    "5-1-1": _ALL, "5-2-1": _ALL,
}

TABLE2 = {"基礎服務": 160, "服務遞送": 240, "服務量能": 160, "服務評價": 150, "開放創新": 70}
TOTAL, GRADE = 780, "乙"

RETURN_FORMATS = {"嘉義辦事處": "ods"}
