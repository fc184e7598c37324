"""Open a workbook the way county staff do before printing: LibreOffice converts it to PDF,
and poppler reads back the pages (size, count) and the text. A test that needs it is skipped
where LibreOffice is not installed (CI installs it: .ci/run, and a skipped test fails CI)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

A4_LANDSCAPE = (841.89, 595.3)  # points, as pdfinfo prints them (±0.5)


@dataclass(frozen=True)
class Printed:
    pages: int
    page_size: tuple[float, float]  # width, height in points
    text: str  # every page's text, in reading order

    @property
    def compact(self) -> str:
        """The text without white space (pdftotext spaces CJK runs as it pleases)."""
        return re.sub(r"\s+", "", self.text)

    @property
    def is_a4_landscape(self) -> bool:
        width, height = self.page_size
        return abs(width - A4_LANDSCAPE[0]) < 1 and abs(height - A4_LANDSCAPE[1]) < 1


def _tools() -> tuple[str, str, str]:
    found = [shutil.which(name) for name in ("soffice", "pdfinfo", "pdftotext")]
    if not all(found):
        pytest.skip("LibreOffice (soffice) and poppler-utils (pdfinfo, pdftotext) are needed")
    return tuple(found)


def print_to_pdf(content: bytes, folder: Path, name: str = "sheet.xlsx") -> Printed:
    """`content` (an .xlsx) as LibreOffice prints it. Each call uses a profile of its own in
    `folder`, so tests running side by side do not share LibreOffice's lock."""
    soffice, pdfinfo, pdftotext = _tools()
    workbook = folder / name
    workbook.write_bytes(content)
    profile = (folder / "lo-profile").resolve().as_uri()
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(workbook),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = workbook.with_suffix(".pdf")
    info = subprocess.run(
        [pdfinfo, str(pdf)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return Printed(pages, (float(size.group(1)), float(size.group(2))), text)
