from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal
from pathlib import Path

from python_calamine import CalamineWorkbook

from salescope.reports.excel import Chart, Section, write_workbook
from salescope.reports.safety import neutralise


def test_neutralise_formula_triggers() -> None:
    for s in ("=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"):
        assert neutralise(s) == "'" + s
    assert neutralise("北京华贸科技") == "北京华贸科技"
    assert neutralise(-5) == -5


def test_workbook_has_values_chart_and_no_formulas(tmp_path: Path) -> None:
    rows = [[dt.date(2024, m, 1), Decimal("1234.5600") * m, f'=HYPERLINK("http://x","{m}")'] for m in (1, 2, 3)]
    path = write_workbook(
        tmp_path / "r.xlsx",
        [
            Section(
                "月度",
                "Monthly",
                ["month", "revenue", "note"],
                rows,
                money_columns=(1,),
                charts=(Chart("line", "Revenue", 0, (1,)),),
            )
        ],
    )
    data = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert data[3] == ["month", "revenue", "note"]
    assert data[4][1] == 1234.56
    assert data[6][1] == 3703.68
    assert data[4][2].startswith("'=")  # stored as text, never as a formula
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert any(n.startswith("xl/charts/chart") for n in names)
    assert "<f>" not in sheet
