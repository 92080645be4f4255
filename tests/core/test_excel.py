"""core.excel: what every export writes."""

import io

from openpyxl import load_workbook

from dangjian.core.excel import workbook_bytes


def test_text_starting_with_equals_is_stored_as_text_not_a_formula():
    evil = '=HYPERLINK("http://evil.example/","点我")'
    content = workbook_bytes([("留言", ["内容", "分数"], [[evil, 3], ["+86 139", -2], ["@所有人", 0]])])
    ws = load_workbook(io.BytesIO(content)).active
    cell = ws["A2"]
    assert cell.value == evil and cell.data_type == "s"
    assert ws["A3"].value == "+86 139" and ws["A3"].data_type == "s"
    assert ws["A4"].value == "@所有人"
    assert ws["B3"].value == -2 and ws["B3"].data_type == "n"  # numbers stay numbers
    # No cell of the sheet is a formula.
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
