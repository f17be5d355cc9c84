"""The catalogue of issue codes: every code xltool raises, with its level, a zh-TW
label (what sheets and people see) and a hint saying how to fix it.

Codes are stable slugs, for filtering and for scripts (the JSON report keeps
them); everything a person reads uses the label. ``tests/test_codes.py`` checks
that every code raised anywhere is here, and that README's table is generated
from this catalogue (``make codes`` rewrites it).
"""
from __future__ import annotations

from dataclasses import dataclass

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY = {ERROR: "錯誤", WARNING: "警告", INFO: "說明"}  # level → what people read


@dataclass(frozen=True)
class Code:
    level: str
    label: str
    hint: str


def _c(level: str, label: str, hint: str) -> Code:
    return Code(level, label, hint)


CATALOGUE: dict[str, Code] = {
    # ------------------------------------------------ files that cannot be read
    "empty-file": _c(ERROR, "空檔案", "請重新存檔後再寄。"),
    "wrong-format": _c(ERROR, "檔案格式與副檔名不符", "請以試算表程式開啟後另存為 .xlsx 或 .ods。"),
    "not-a-spreadsheet": _c(WARNING, "不是試算表檔", "只接受 .xlsx、.xlsm、.xls、.ods。"),
    "corrupt-file": _c(ERROR, "檔案已損毀", "請重新存檔後再寄；寄送時請勿壓縮或改名。"),
    "encrypted": _c(ERROR, "檔案設有密碼", "請移除密碼後重新存檔。"),
    "zip-bomb": _c(ERROR, "疑似壓縮炸彈", "檔案解壓後過大，已拒絕讀取。"),
    "xml-rejected": _c(ERROR, "含有不安全的 XML", "檔案含有實體宣告，已拒絕讀取。"),
    "too-large": _c(ERROR, "檔案或內容過大", "請刪除多餘的儲存格或內容後重新存檔。"),
    "timeout": _c(ERROR, "讀取逾時", "檔案可能過大或損毀，請重新存檔後再寄。"),
    "unreadable": _c(ERROR, "無法讀取", "請重新存檔後再寄。"),
    "macro-removed": _c(INFO, "含有巨集（不執行）", "xltool 只讀取儲存格內容。"),
    "sheet-added": _c(WARNING, "多了填報表沒有的工作表",
                      "該工作表的內容不會納入彙整；要填報的內容請填在「填報表」中。"),
    "cell-note": _c(WARNING, "儲存格註解未納入彙整", "註解不會納入總表；要填報的內容請填在對應的儲存格中。"),
    "cell-notes-unreadable": _c(WARNING, "註解無法讀取（儲存格照常讀取）",
                                "註解的內容損毀或過大，未能列出；要填報的內容請填在儲存格中，或重新存檔後再寄。"),
    "external-link": _c(INFO, "含有外部連結（不開啟）", "xltool 只讀取儲存格中已存的值。"),
    # ------------------------------------------------ recognising a return
    "lock-file": _c(INFO, "暫存鎖定檔（略過）", "可刪除。"),
    "not-a-return": _c(INFO, "不是試算表檔（略過）", "回收資料夾中只放回傳的填報表。"),
    "no-returns": _c(WARNING, "沒有找到任何回傳檔", "請確認指定的回收資料夾是否正確。"),
    "wrong-plan": _c(ERROR, "其他計畫或年度的填報表", "請改用本年度的填報表。"),
    "wrong-version": _c(ERROR, "無法辨識的填報表版本", "請改用新產生的填報表。"),
    "unknown-unit": _c(ERROR, "不在計畫中的單位", "請確認單位名稱，或在計畫檔「單位」工作表補上。"),
    "identity-conflict": _c(ERROR, "識別資料互相矛盾", "請以原填報表填寫後回傳。"),
    "fingerprint-mismatch": _c(ERROR, "識別碼與內容不符", "請以原填報表填寫後回傳。"),
    "name-mismatch": _c(WARNING, "檔名與內容的單位不一致", "已依內容判斷單位；請確認檔案。"),
    "no-metadata": _c(WARNING, "缺少識別資料", "已依檔名與內容判斷單位；請以原填報表填寫。"),
    "unrecognized": _c(ERROR, "無法辨識是哪個單位的回傳", "請以原填報表填寫後回傳。"),
    "implausible-time": _c(WARNING, "存檔時間不可信", "挑選最新回傳檔時不採用此時間；請確認電腦時鐘。"),
    "internal-error": _c(ERROR, "xltool 內部錯誤", "這不是檔案的問題，請將訊息回報開發者。"),
    "too-many-issues": _c(ERROR, "問題過多（未全部列出）", "請先修正已列出的問題後重新回傳。"),
    # ------------------------------------------------ the form's structure
    "form-sheet-missing": _c(ERROR, "找不到填報表工作表", "請以原填報表填寫後回傳。"),
    "sheet-renamed": _c(WARNING, "工作表被更名", "已依內容讀取；請勿更改工作表名稱。"),
    "header-missing": _c(ERROR, "找不到標題列", "請以原填報表填寫後回傳。"),
    "columns-missing": _c(ERROR, "標題列缺少欄位", "請勿刪除或更名欄位。"),
    "columns-moved": _c(WARNING, "欄位順序被變動", "已依欄名讀取；請勿插入、刪除或搬移欄。"),
    "duplicate-column": _c(ERROR, "欄名重複", "請勿新增或複製欄。"),
    "locked-column-changed": _c(ERROR, "鎖定欄位的標題或位置被變更", "請勿修改灰色欄位。"),
    "locked-cell-edited": _c(ERROR, "鎖定欄位的內容被修改", "已以計畫內容為準；請勿修改灰色欄位。"),
    "merged-input-cells": _c(ERROR, "填寫欄位有合併儲存格", "請取消合併後分別填寫。"),
    "row-without-id": _c(ERROR, "沒有編號的列有內容", "請填在對應項目的列。"),
    "foreign-row": _c(ERROR, "不是本單位的項目列", "請勿新增或複製列。"),
    "duplicate-row": _c(ERROR, "項目列重複", "只採用第一列；請刪除重複的列。"),
    "row-deleted": _c(ERROR, "項目列被刪除", "該項以 0 分計；請以原填報表填寫。"),
    "rows-reordered": _c(WARNING, "項目列的順序被變動", "已依編號對應；請勿排序或搬移列。"),
    "text-outside-form": _c(WARNING, "表格外有填寫內容（未納入彙整）",
                            "要填報的內容請填在對應項目列的黃色儲存格；僅供說明者可留在郵件中告知。"),
    # ------------------------------------------------ values
    "not-in-list": _c(ERROR, "不在下拉清單中", "請由下拉清單選擇。"),
    "type-error": _c(ERROR, "型別不符", "應填數字或日期。"),
    "out-of-range": _c(ERROR, "超出範圍", "例如自評分數須在 0 到配分之間。"),
    "missing-value": _c(ERROR, "必填未填", "若本項不適用，請於執行狀態選不適用。"),
    "too-long": _c(ERROR, "文字過長", "一格最多 32,767 個字元。"),
    "normalized": _c(INFO, "已自動校正", "例如全形數字已視為數字。"),
    "number-shown-as-date": _c(WARNING, "數字欄位顯示為日期或時間",
                               "已依儲存格的數值採計；請將儲存格格式改為數值後重新輸入。"),
    "number-shown-as-percent": _c(WARNING, "數字欄位顯示為百分比",
                                  "已依儲存格的數值採計（95% 為 0.95）；要填 95 請直接輸入 95。"),
    "formula": _c(ERROR, "填寫欄位是公式", "請直接輸入數值或文字。"),
    # ------------------------------------------------ the merge
    "missing-return": _c(ERROR, "未繳交", "請催繳。"),
    "superseded": _c(INFO, "已由較新的檔案取代", "只採用存檔時間最晚的檔案。"),
    "duplicate-return": _c(INFO, "重複的檔案（內容完全相同）", "只採用一份；可刪除重複的檔案。"),
    "same-save-time": _c(WARNING, "存檔時間相同但內容不同", "已依收件紀錄、問題多寡或檔名擇一採用；請向單位確認。"),
    "superseded-untimed": _c(WARNING, "存檔時間不可信或未記錄的檔案未採用",
                             "已採用存檔時間可信的檔案；請確認，必要時移出不採用的檔案後重新執行。"),
    "blank-return": _c(INFO, "收到空白的填報表", "沒有填寫任何內容，視為未繳；催繳時會再寄填報表。"),
    "blank-superseded": _c(INFO, "空白的填報表（未採用）", "沒有填寫任何內容；已採用同一單位有填寫的檔案。"),
    "all-not-applicable": _c(WARNING, "主辦單位全部填不適用", "本項以 0 分計；請確認或複評。"),
    "orphan-review": _c(WARNING, "複評對應的項目已不在計畫中",
                        "未採計，照原樣保留在「評分」總分下方；確認不需要後可清除。"),
    "review-out-of-range": _c(ERROR, "複評超出範圍", "複評須在 0 到配分之間；請修正總表後重新彙整。"),
    "review-converted": _c(INFO, "複評以公式或文字填寫，已採計其數值",
                           "新總表的複評欄改寫為該數字；請確認是要採計的分數。"),
    "review-without-id": _c(ERROR, "複評所在的列沒有編號", "未採用；請填入該項目那一列後重新彙整，舊檔已備份。"),
    "review-other-plan": _c(ERROR, "既有總表屬於另一年度的計畫", "其複評未採用；請確認輸出檔名，舊檔已備份。"),
    "review-unreadable": _c(ERROR, "無法讀取既有總表的複評", "本次彙整不含先前的複評；舊檔已備份，複評仍在其中。"),
    "review-sheet-missing": _c(ERROR, "既有總表找不到評分工作表", "本次彙整不含先前的複評；舊檔已備份，複評仍在其中。"),
    "review-column-missing": _c(ERROR, "既有總表找不到複評欄", "請勿更改「評分」的標題列；舊檔已備份，複評仍在其中。"),
    "review-header-changed": _c(WARNING, "既有總表的複評欄標題被更改",
                                "已依位置讀取，新總表已恢復原標題；請勿更改標題列。"),
    "review-duplicate-row": _c(WARNING, "既有總表的項目列重複", "只採用第一列；請確認複評。"),
    "review-sheet-copy": _c(ERROR, "既有總表另有評分的複本且內容不同",
                            "複評只從「評分」讀取，複本的內容未採用；要採用的請填入「評分」，舊檔已備份。"),
    "review-copy-unreadable": _c(WARNING, "較晚另存的總表無法讀取",
                                 "已改從總表讀取複評；另存的檔案未變更，其中若有較新的複評請修復該檔。"),
    "review-other-file": _c(WARNING, "複評讀自另存的總表", "往後請在 .xlsx 的總表填寫複評並存成 .xlsx。"),
    "newer-master": _c(WARNING, "同名的總表較新", "成果文件依指定的總表產生；請確認是否應改用較新的檔案。"),
    "review-note-missing": _c(WARNING, "複評未填複評說明", "複評與自評不同時，請在「評分」的複評說明欄寫明理由。"),
    "review-self-changed": _c(WARNING, "複評填寫後自評已變動",
                              "複評照原樣保留；請對照新的自評確認複評與複評說明是否仍適用。"),
    "revised-points": _c(WARNING, "自評超過修訂後的配分", "暫以新配分計；請複評確認。"),
    "new-item-unreported": _c(WARNING, "新增項目尚未填報", "可產生預填的新版填報表請單位補填。"),
    "write-failed": _c(ERROR, "檔案未寫出", "請確認資料夾可以寫入。"),
    "copy-not-sent": _c(WARNING, "補正資料夾中的檔案不是原樣的退件補正檔，未寄出",
                        "該檔寫出後又被存檔過；若是單位寄回的修正檔，請移到回收資料夾後重新彙整。"),
    "feedback-file-kept": _c(WARNING, "補正資料夾中的檔案未覆蓋或未刪除",
                             "該檔不是 xltool 原樣寫出的退件補正檔；單位的修正檔請移到回收資料夾，其他請自行處理。"),
    "prefill-unavailable": _c(WARNING, "沒有可用的回傳檔可預填", "已產生空白的填報表。"),
    "pdf-failed": _c(ERROR, "總表的 PDF 未產生",
                     "總表已寫出；請確認 LibreOffice 已安裝，再執行 xltool print 轉成 PDF。"),
    "stale-pdf-moved": _c(INFO, "舊的總表 PDF 已改名備份",
                          "PDF 不會隨總表更新；需要時請加上 --pdf 或執行 xltool print。"),
    "stale-pdf": _c(WARNING, "舊的總表 PDF 與新總表不符",
                    "請關閉該 PDF 後改名或刪除，再以 --pdf 或 xltool print 重新產生。"),
    "pdf-not-ours": _c(WARNING, "與總表同名的 PDF 不是 xltool 轉出的",
                       "未改名；它不是本次彙整的結果，需要時請移走該檔後以 --pdf 或 xltool print 重新產生。"),
    "pdf-name-taken": _c(ERROR, "總表的 PDF 未產生：同名檔案不是 xltool 的",
                         "為免覆蓋而未寫入；請將該檔改名或移走後執行 xltool print。"),
    "damaged-log": _c(WARNING, "收件紀錄損毀", "已略過無法讀取的部分。"),
    # ------------------------------------------------ the plan workbook
    "missing-sheet": _c(ERROR, "計畫檔缺少工作表", "請以 xltool init 產生的計畫檔為範本。"),
    "missing-column": _c(ERROR, "計畫檔缺少欄位", "請勿刪除或更名標題列。"),
    "duplicate": _c(ERROR, "重複", "代碼、名稱、編號與清單值不可重複。"),
    "unknown-dimension": _c(ERROR, "不在構面中", "請填工作表「構面」的代碼或名稱。"),
    "points-mismatch": _c(ERROR, "配分合計不符", "各項目配分合計須等於構面配分。"),
    "grade-order": _c(ERROR, "等第順序不正確", "等第須由高到低排列。"),
    "grade-gap": _c(WARNING, "最低一級等第不是 0 分", "低於最低分的總分將沒有等第。"),
    "unit-without-items": _c(WARNING, "單位沒有主辦項目", "該單位不會產生填報表。"),
    "control-character": _c(ERROR, "含有換行或控制字元", "請刪除儲存格中的換行或控制字元。"),
    "invisible-character": _c(ERROR, "名稱含有看不見的字元",
                              "零寬空白、方向控制字元等會讓名稱看似另一個名稱；請刪除（常見於由網頁或文件複製的文字）。"),
    "xlsx-escape": _c(ERROR, "單位名稱含有 Excel 的跳脫寫法",
                      "「_x」加四位十六進位數字再加「_」（例如 _x0041_）會被 Excel 改寫；請修改單位名稱。"),
    "file-name-collision": _c(ERROR, "單位的檔名相同",
                              "檔名不分大小寫，斜線、冒號等不能用於檔名的字元會改為 _；請修改其中一個單位名稱。"),
    "needs-smtputf8": _c(WARNING, "電子郵件帳號含中文", "部分郵件伺服器不支援；建議改用英數帳號。"),
    # ------------------------------------------------ plan and result documents
    "no-plan-table": _c(ERROR, "文件中找不到計畫表格", "表格的標題列須有執行策略、執行方法、主辦單位與具體作法。"),
    "needs-libreoffice": _c(ERROR, "需要 LibreOffice", "請另存為 .docx 或 .odt，或安裝 LibreOffice。"),
    "to-fill": _c(INFO, "文件未載明，請補填", "依工作表與儲存格補填後執行 xltool check。"),
    "points-split": _c(WARNING, "配分為平均分配", "文件沒有各項配分；請依實際配分修正。"),
    "master-mismatch": _c(ERROR, "總表與計畫檔不符", "請以目前的計畫檔重新執行 xltool merge。"),
    # ------------------------------------------------ roll-up of the branches' masters
    "master-unverified": _c(ERROR, "無法驗證的總表（不採計）", "請該單位以 xltool merge 重新產生總表後再送。"),
    "master-tampered": _c(ERROR, "總表內容與識別資料不符（不採計）",
                          "總表的自評或配分被修改過；請該單位重新彙整後再送。"),
    "other-scheme": _c(ERROR, "不同考核架構的總表（不採計）", "構面、配分、年度與填報期間須與其他總表相同。"),
    "duplicate-branch": _c(WARNING, "同一單位有多份總表", "只採用存檔時間最晚的一份。"),
    "missing-branch": _c(ERROR, "名冊中的單位未送總表", "請催送。"),
    "not-in-roster": _c(WARNING, "總表的單位不在名冊中", "已列在最後；請確認名冊。"),
    "bands-disagree": _c(ERROR, "各總表的等第標準不一致", "請在名冊的「等第」工作表訂定等第標準。"),
    "roster-invalid": _c(ERROR, "名冊有誤", "依工作表與儲存格修正名冊。"),
    # ------------------------------------------------ mail
    "no-address": _c(WARNING, "單位沒有電子郵件", "請在計畫檔「單位」工作表補上。"),
    "bad-address": _c(ERROR, "電子郵件格式不正確", "每個單位一個地址，不可有逗號或換行。"),
    "no-template": _c(ERROR, "找不到填報表", "請先執行 xltool template。"),
    "send-failed": _c(ERROR, "郵件未寄出", "重新執行時會只重寄失敗的郵件。"),
    "unsafe-header": _c(ERROR, "名稱無法正確寫入收件人或寄件人",
                        "請修改計畫檔中的單位名稱或承辦單位；其他單位照常寄出。"),
    "maybe-sent": _c(WARNING, "郵件可能已寄達（伺服器未確認）",
                     "重新執行時不會再寄；請向該單位確認，未收到時加 --resend-uncertain 重寄。"),
    "smtp-stopped": _c(ERROR, "郵件伺服器沒有回應，已停止寄送",
                       "請確認郵件伺服器正常後重新執行同一指令；只會寄出尚未寄出的郵件。"),
    "deadline-passed": _c(WARNING, "繳交期限已過", "催繳或補正時可加 --deadline 指定新的期限。"),
    "bad-message": _c(ERROR, "無法解析的郵件", "其他郵件照常收取。"),
    "bad-header": _c(WARNING, "郵件標頭有誤", "已盡量解讀。"),
    "too-deep": _c(ERROR, "郵件層次過深", "請對方直接附加檔案寄送。"),
    "no-attachment": _c(INFO, "郵件沒有附件", ""),
    "duplicate-message": _c(INFO, "附件先前已收過", "未重複存檔。"),
    "unexpected-sender": _c(WARNING, "寄件者不是該單位的地址", "轉寄的郵件仍會收取；請確認來源。"),
    "unassigned-evidence": _c(WARNING, "佐證資料無法歸屬單位", "已存於「（未歸屬單位）」資料夾；請確認來源。"),
    "wrapped-return": _c(WARNING, "回傳檔可能在壓縮檔或 winmail.dat 中",
                         "xltool 不開啟這類檔案；請該單位將填報表直接附加（不要壓縮）重寄。"),
    "own-message": _c(INFO, "xltool 自己產生的郵件", "草稿或寄出郵件的副本不是回覆，已略過。"),
    "mail-stopped": _c(ERROR, "郵件來源中途中斷", "已取得的郵件都已存檔；重新執行會接著收取。"),
    "sender-date": _c(INFO, "收件時間取自寄件者的 Date 標頭",
                      "郵件沒有伺服器的收件時間；寄件者電腦的時鐘可能不準。"),
    # ------------------------------------------------ xltool status --verify
    "return-changed": _c(ERROR, "回傳檔已變更", "內容與彙整時不同；請重新執行 xltool merge。"),
    "return-missing": _c(ERROR, "回傳檔已不在", "彙整時的檔案已移除或改名；請找回檔案或重新彙整。"),
    "return-added": _c(WARNING, "新增的回傳檔", "總表未包含此檔；重新執行 xltool merge 才會納入。"),
}


def code(name: str) -> Code:
    """The catalogue entry of a code; unknown codes read as errors (and fail the tests)."""
    return CATALOGUE.get(name) or Code(ERROR, name, "")


def markdown_table() -> str:
    """README's table of issue codes, generated from the catalogue."""
    rows = ["| 代碼 | 層級 | 說明 | 處理方式 |", "|---|---|---|---|"]
    for name, entry in CATALOGUE.items():
        rows.append(f"| `{name}` | {SEVERITY[entry.level]} | {entry.label} | {entry.hint} |")
    return "\n".join(rows)


README_START, README_END = "<!-- codes:start -->", "<!-- codes:end -->"


def rewrite_readme(text: str) -> str:
    """README with its code table replaced by the catalogue's."""
    before, _, rest = text.partition(README_START)
    _, _, after = rest.partition(README_END)
    return f"{before}{README_START}\n{markdown_table()}\n{README_END}{after}"


if __name__ == "__main__":  # make codes
    from pathlib import Path

    readme = Path(__file__).resolve().parent.parent / "README.md"
    readme.write_text(rewrite_readme(readme.read_text(encoding="utf-8")), encoding="utf-8")
