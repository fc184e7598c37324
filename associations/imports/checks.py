"""Hostile-file checks for uploaded sheets (.xlsx and .csv): everything that can go wrong with
the FILE (rather than with a row) is decided here, before anything is stored, parsed or
imported, and reported as a `FileRefused` with a stable code and a Chinese message:

- FILE_TOO_LARGE: more bytes than ``settings.IMPORT_MAX_BYTES`` (10 MB by default), more
  physical lines than ``settings.IMPORT_MAX_LINES`` (blank lines count: a CSV of millions of
  empty lines is refused here), or a worksheet whose used area reaches past that many rows or
  ``MAX_COLUMNS`` columns. (The cap on DATA rows, ``IMPORT_MAX_ROWS``, is kept by reading.)
- FILE_TYPE: not .xlsx or .csv, an old .xls or encrypted workbook, a .xlsx that is not a zip
  with ``[Content_Types].xml``, a damaged workbook, a CSV in an unknown text encoding.
- MACRO_WORKBOOK: .xlsm/.xltm/.xlam, or a workbook carrying ``xl/vbaProject.bin`` or a
  macro-enabled content type whatever its name.
- ZIP_BOMB: the zip directory DECLARES more than 100 MB uncompressed, more than 100 times its
  compressed size, or an absurd number of parts. Checked before anything is decompressed;
  Python's zipfile never inflates past the declared size (a lie ends in a CRC error).
- XML_BOMB: a document type declaration in any XML part (billion laughs, external entities).
  Office files never carry one, so any is refused before a parser sees the part.

The reader (calamine) builds each worksheet as a dense grid from the cells' positions: a
4 KB file with one cell at XFD1048576 would ask it for hundreds of gigabytes and abort the
process. So the used area of every worksheet is bounded here, from the cell references in
the part, before the reader is handed the file.
"""

from __future__ import annotations

import io
import re
import zipfile

from django.conf import settings

# --- file-level codes -------------------------------------------------------------------------

FILE_TOO_LARGE = "FILE_TOO_LARGE"
FILE_TYPE = "FILE_TYPE"
MACRO_WORKBOOK = "MACRO_WORKBOOK"
ZIP_BOMB = "ZIP_BOMB"
XML_BOMB = "XML_BOMB"
NO_HEADER = "NO_HEADER"
EMPTY_FILE = "EMPTY_FILE"
MISSING_COLUMN = "MISSING_COLUMN"

FILE_CODES = {
    FILE_TOO_LARGE: "文件过大",
    FILE_TYPE: "文件类型不对或文件已损坏",
    MACRO_WORKBOOK: "含宏的工作簿",
    ZIP_BOMB: "压缩炸弹(解压后体积异常)",
    XML_BOMB: "XML 实体炸弹",
    NO_HEADER: "找不到表头",
    EMPTY_FILE: "没有数据行",
    MISSING_COLUMN: "缺少必需的列",
}

XLSX = "xlsx"
CSV = "csv"
MACRO_EXTENSIONS = {"xlsm", "xltm", "xlam", "xlsb"}
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_FROM_BYTES = 1024 * 1024  # tiny files cannot hurt, whatever their ratio
MAX_ZIP_ENTRIES = 2000
MAX_COLUMNS = 702  # column ZZ: a roster has a few dozen
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and password-protected .xlsx
SAVE_AS_XLSX = "请在 Excel 中“另存为”“Excel 工作簿(*.xlsx)”后上传。"


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 10 * 1024 * 1024))


def max_rows() -> int:
    """Data rows per file (blank rows not counted)."""
    return int(getattr(settings, "IMPORT_MAX_ROWS", 50_000))


def max_lines() -> int:
    """Physical lines (rows of a sheet, lines of a CSV) per file, blank ones included."""
    return int(getattr(settings, "IMPORT_MAX_LINES", 100_000))


class FileRefused(Exception):
    """The file as a whole cannot be imported. Nothing has been written."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict:
        return {"row": 0, "column": "", "field": "", "code": self.code, "message": self.message}


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def check_upload(name: str, size: int) -> str:
    """Before reading: size and name. Returns the file type (xlsx or csv)."""
    limit = max_bytes()
    if size > limit:
        raise FileRefused(
            FILE_TOO_LARGE,
            f"文件有 {size / 1024 / 1024:.1f} MB,超过了 {limit / 1024 / 1024:.0f} MB 的上限。"
            "请按村(社区)分成几个文件分别导入。",
        )
    if size == 0:
        raise FileRefused(EMPTY_FILE, "上传的文件是空的。")
    extension = extension_of(name)
    if extension in MACRO_EXTENSIONS:
        raise FileRefused(MACRO_WORKBOOK, f"不接受含宏的工作簿(.xlsm 等)。{SAVE_AS_XLSX}")
    if extension == "xls":
        raise FileRefused(FILE_TYPE, f"不支持旧版 .xls 文件。{SAVE_AS_XLSX}")
    if extension not in (XLSX, CSV):
        raise FileRefused(FILE_TYPE, "只能导入 .xlsx 或 .csv 文件,请使用下载的模板填写。")
    return extension


def sniff(data: bytes, file_type: str) -> None:
    """The content agrees with the name and is safe to hand to the reader."""
    if len(data) > max_bytes():
        check_upload(f"x.{file_type}", len(data))
    if data.startswith(OLE_SIGNATURE):
        raise FileRefused(
            FILE_TYPE,
            "这是旧版 .xls 文件或加了密码的工作簿。请去掉密码并“另存为”“Excel 工作簿(*.xlsx)”。",
        )
    if file_type == XLSX:
        _sniff_zip(data)
        return
    if data.startswith(b"PK\x03\x04"):
        raise FileRefused(
            FILE_TYPE, "文件扩展名是 .csv,内容却是 Excel 工作簿,请改为 .xlsx 后上传。"
        )
    _check_csv_lines(data)


def too_many_lines(lines: int) -> FileRefused:
    return FileRefused(
        FILE_TOO_LARGE,
        f"文件有 {lines} 行(空行也计算在内),超过了 {max_lines()} 行的上限。"
        "请删去多余的空行,或按村(社区)分成几个文件分别导入。",
    )


def _check_csv_lines(data: bytes) -> None:
    """Counted on the bytes, before decoding: a line break is one byte in UTF-8 and GB18030
    alike. Old Mac files end lines with a lone CR, which the csv module also reads as one."""
    breaks = max(data.count(b"\n"), data.count(b"\r"))
    lines = breaks if data.endswith((b"\n", b"\r")) else breaks + 1
    if lines > max_lines():
        raise too_many_lines(lines)


def _sniff_zip(data: bytes) -> None:
    if not data.startswith(b"PK"):
        raise FileRefused(FILE_TYPE, "文件不是有效的 .xlsx 工作簿(可能只是改了扩展名)。")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            _check_directory(entries)
            _check_parts(archive, entries)
    except FileRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as error:
        raise FileRefused(FILE_TYPE, "文件已损坏,不是有效的 .xlsx 工作簿。") from error


def _check_directory(entries: list[zipfile.ZipInfo]) -> None:
    """What the zip's central directory declares, before anything is inflated."""
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names:
        raise FileRefused(FILE_TYPE, "文件不是有效的 .xlsx 工作簿(缺少 [Content_Types].xml)。")
    if len(entries) > MAX_ZIP_ENTRIES:
        raise FileRefused(ZIP_BOMB, f"工作簿包含 {len(entries)} 个部件,数量异常,已拒绝。")
    declared = sum(entry.file_size for entry in entries)
    compressed = sum(entry.compress_size for entry in entries) or 1
    if declared > MAX_UNCOMPRESSED_BYTES:
        raise FileRefused(
            ZIP_BOMB,
            f"工作簿解压后将有 {declared / 1024 / 1024:.0f} MB,超过 "
            f"{MAX_UNCOMPRESSED_BYTES // 1024 // 1024} MB 的安全上限,疑似“压缩炸弹”,已拒绝。",
        )
    if declared >= RATIO_CHECK_FROM_BYTES and declared / compressed > MAX_COMPRESSION_RATIO:
        raise FileRefused(
            ZIP_BOMB,
            f"工作簿的压缩比异常(约 {declared // compressed} 倍),疑似“压缩炸弹”,已拒绝。",
        )
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise FileRefused(MACRO_WORKBOOK, f"工作簿中含有宏(VBA)。{SAVE_AS_XLSX}")


def _check_parts(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> None:
    """Every part once: no document type declaration anywhere, and each worksheet's used
    area within the caps. (The directory said how big the parts are: at most 100 MB in all.)"""
    for entry in entries:
        # Every part, whatever its name: the reader goes where the package's links point,
        # and a link may point at a worksheet named like a picture.
        name = entry.filename.lower()
        content = archive.read(entry)
        if _DECLARATION.search(content):
            raise FileRefused(
                XML_BOMB,
                "工作簿中含有 XML 实体声明(可能是“XML 炸弹”攻击),已拒绝。请重新另存后再上传。",
            )
        if name == "[content_types].xml" and b"macroEnabled" in content:
            raise FileRefused(MACRO_WORKBOOK, f"这是启用宏的工作簿。{SAVE_AS_XLSX}")
        if b"sheetData" in content:  # a worksheet, wherever the workbook's links put it
            _check_used_area(content)


# A DTD is the only way to declare entities; Office writes none. (Also in UTF-16, whose
# bytes interleave zeros: the parser would read those too.)
_DECLARATION = re.compile(rb"<\x00?!\x00?(?:D\x00?O\x00?C\x00?T\x00?Y\x00?P\x00?E|E\x00?N\x00?T)")
_REFERENCE = re.compile(rb'\sr="([A-Z]*)(\d+)"')
_PREFIXED_TAG = re.compile(rb"<[\w.-]+:(?:c|row)[\s/>]")
_CELL = re.compile(rb"<(?:[\w.-]+:)?c[\s/>]")
_ROW = re.compile(rb"<(?:[\w.-]+:)?row[\s/>]")
_WIDE = re.compile(rb'r="[A-Z]{3}')  # column AAA and beyond: past MAX_COLUMNS (ZZ)
_WHITESPACE = b" \t\n\r\f\v"


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _elements(part: bytes) -> tuple[int, int]:
    """(rows, cells) of the part. Plain byte counts for the usual unprefixed tags; a regular
    expression only when some tag carries a namespace prefix (<x:c …>)."""
    if (b":c" in part or b":row" in part) and _PREFIXED_TAG.search(part):
        return len(_ROW.findall(part)), len(_CELL.findall(part))
    rows = part.count(b"<row ") + part.count(b"<row>") + part.count(b"<row/>")
    cells = part.count(b"<c ") + part.count(b"<c>") + part.count(b"<c/>")
    return rows, cells


def _attributes(pattern: re.Pattern, part: bytes):
    """The pattern's matches that start an attribute (whitespace before them). The patterns
    start with their literal r=" so that the search runs at memory speed: a leading \\s
    would make the engine try every byte of a worksheet of megabytes."""
    for match in pattern.finditer(part):
        if match.start() and part[match.start() - 1] in _WHITESPACE:
            yield match


def _check_used_area(part: bytes) -> None:
    """The last row and column any cell of the worksheet can land in, from the rows' and
    cells' references (r="C12"). Rows and cells may omit the reference (the reader then puts
    them after the previous one), so each of those widens the bound by one. The usual sheet
    has every reference: then only the references long enough to pass a cap are read, and
    the whole part is scanned only when some tag leaves its reference out."""
    limit = max_lines()
    rows_found, cells_found = _elements(part)
    # Every row and cell tag starting with its reference (as Excel, WPS and openpyxl write
    # them): no position is implicit.
    explicit = part.count(b'<row r="') == rows_found and part.count(b'<c r="') == cells_found
    if explicit:
        long_rows = re.compile(rb'r="[A-Z]*(\d{%d,})"' % len(str(limit)))
        rows = max((int(m.group(1)) for m in _attributes(long_rows, part)), default=0)
        wide = next(_attributes(_WIDE, part), None)
        columns = MAX_COLUMNS + 1 if wide else 0
    else:
        # Some position is implicit: bound it by the elements that could push it further.
        rows = columns = 0
        for letters, digits in _REFERENCE.findall(part):
            rows = max(rows, int(digits))
            if letters:
                columns = max(columns, _column_number(letters))
        rows += rows_found
        columns += cells_found
    if rows > limit:
        raise too_many_lines(rows)
    if columns > MAX_COLUMNS:
        raise FileRefused(
            FILE_TOO_LARGE,
            f"工作表的数据区域超过了 {MAX_COLUMNS} 列的上限。请删去表格右侧多余的内容后重新上传。",
        )
