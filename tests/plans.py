"""Plan workbooks built in code for the tests (no committed binaries).

``second_plan()`` differs from the Kaohsiung 109 plan in every plan fact:
構面 names and count, a total of 100 with decimal points, other units and
groups, a range, an alias, other grade bands and another status list.
"""
from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import xlsxwriter

from xltool.xlsx_text import LiteralWorksheet

SECOND_PLAN = {
    "計畫": [
        ["欄位", "內容"],
        ["計畫名稱", "新竹縣政府 112 年度數位轉型推動計畫"],
        ["機關名稱", "新竹縣政府"],
        ["年度", 112],
        ["填報期間", "1-12月"],
        ["考核年月", "113.01"],
        ["繳交期限", date(2024, 1, 15)],
        ["承辦單位", "資訊中心"],
        ["承辦人", "測試承辦人"],
        ["聯絡電話", "03-0000000"],
        ["電子郵件", "it@hsinchu.example"],
        ["不適用選項", "免填"],
    ],
    "構面": [
        ["代碼", "名稱", "配分"],
        ["A", "便民服務", 60.5],
        ["B", "數位創新", 39.5],
    ],
    "單位": [
        ["名稱", "類別", "群組", "別名", "電子郵件"],
        ["甲組", "業務組", "全體、各組", "", "a@hsinchu.example"],
        ["乙組", "業務組", "全體、各組", "", "b@hsinchu.example"],
        ["丙組", "業務組", "全體、各組", "", ""],
        ["資訊中心", "幕僚", "全體", "資訊室", "it@hsinchu.example"],
        ["北區服務站", "服務站", "全體", "", ""],
        ["南區服務站", "服務站", "全體", "", ""],
    ],
    "項目": [
        ["編號", "構面", "執行策略", "執行方法", "主辦單位", "具體作法", "目標值", "計量單位", "配分"],
        ["A01", "A", "線上申辦", "擴充線上申辦項目", "甲組至丙組", "新增線上申辦 5 項", 5, "項", 20.25],
        ["A02", "便民服務", "臨櫃服務", "縮短等候時間", "北、南區服務站", "平均等候 10 分鐘內", 10, "分鐘", 20.25],
        ["A03", "A", "資料開放", "開放資料集", "資訊室", "開放 12 個資料集", 12, "個", 20],
        ["B01", "B", "流程改造", "無紙化", "各組", "公文線上簽核", None, None, 19.75],
        ["B02", "數位創新", "創新提案", "提案競賽", "全體", "每單位提案 1 件", 1, "件", 19.75],
    ],
    "等第": [
        ["等第", "最低分"],
        ["特優", 95],
        ["優良", 85],
        ["普通", 0],
    ],
    "選項": [
        ["執行狀態", "佐證類型"],
        ["完成", "照片"],
        ["進行中", "公文"],
        ["免填", None],
    ],
}

# Who leads what in SECOND_PLAN, worked out by hand from the 主辦單位 texts.
SECOND_PLAN_LEADS = {
    "甲組": ["A01", "B01", "B02"],
    "乙組": ["A01", "B01", "B02"],
    "丙組": ["A01", "B01", "B02"],
    "資訊中心": ["A03", "B02"],
    "北區服務站": ["A02", "B02"],
    "南區服務站": ["A02", "B02"],
}


def second_plan() -> dict:
    return copy.deepcopy(SECOND_PLAN)


def write_plan(path: Path, sheets: dict) -> Path:
    """Write a plan dict (sheet → rows, row 0 the header) as .xlsx."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    text = wb.add_format({"num_format": "@"})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name, LiteralWorksheet)  # texts as typed, whatever they look like
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, date):
                    ws.write_datetime(r, c, value, day)
                elif isinstance(value, str):
                    ws.write_string(r, c, value, text)
                else:
                    ws.write_number(r, c, value)
    wb.close()
    return path
