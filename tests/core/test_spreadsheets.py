"""core.spreadsheets: the download responses every export shares."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from core.spreadsheets import csv_response, formula_escape, xlsx_response


def test_formula_like_text_gets_an_apostrophe_and_other_values_pass():
    assert formula_escape("=1+1") == "'=1+1"
    assert formula_escape("\t=1") == "'\t=1"
    assert formula_escape("楼道") == "楼道"
    assert formula_escape(-3) == -3


def test_an_xlsx_drops_control_characters_xml_cannot_hold_instead_of_failing():
    response = xlsx_response(filename="x.xlsx", title="表", header=["内容"],
                             rows=[["楼道\x0b堆物"], ["=SUM(1)"]])
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "楼道堆物", "'=SUM(1)"]


def test_a_csv_starts_with_a_byte_order_mark_for_excel():
    response = csv_response(filename="x.csv", header=["编号"], rows=[[1]])
    body = b"".join(response.streaming_content)
    assert body == "\ufeff编号\r\n1\r\n".encode()
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
