"""Importing sheets (Excel .xlsx or CSV) into the platform: the machinery every kind shares.

    checks     hostile-file checks (size, type, zip and XML bombs, macros, encrypted or old
               workbooks, the physical-line and used-area caps) -> FileRefused(code, message)
    reading    the first sheet with a recognisable header, as records (calamine)
    columns    column specs, header matching, cell parsing, RowProblem, CellError, RowReader
    workbooks  the error workbook and the template (every text cell quote-prefixed)
    pipeline   ImportKind, the registry of kinds, run_import, ImportOutcome
    dberrors   database refusals as Chinese messages naming the row

Apps declare their kinds (households/imports.py, members/imports.py) and register them in
their AppConfig.ready(). Job records, pages and tasks use only the names exported here."""

from .checks import (
    CSV,
    EMPTY_FILE,
    FILE_CODES,
    FILE_TOO_LARGE,
    FILE_TYPE,
    MACRO_WORKBOOK,
    MISSING_COLUMN,
    NO_HEADER,
    XLSX,
    XML_BOMB,
    ZIP_BOMB,
    FileRefused,
    check_upload,
    max_bytes,
    max_lines,
    max_rows,
)
from .columns import (
    CHOICE_INVALID,
    DATABASE_ERROR,
    DATE_INVALID,
    REQUIRED,
    TOO_LONG,
    UNKNOWN_COLUMN,
    CellError,
    ColumnSpec,
    RowProblem,
    RowReader,
    as_text,
    choice,
    is_numeric_id,
    parse_date,
    yes_no,
)
from .pipeline import (
    ID_UPGRADED,
    KINDS,
    ROW_CODES,
    IdUpgrade,
    ImportKind,
    ImportOutcome,
    error_workbook,
    get_kind,
    read_rows,
    register,
    run_import,
    template_workbook,
    upgrade_notice,
)
from .reading import Probe, Record, Table, probe, read_table
from .workbooks import AllowedValues

__all__ = [
    "CHOICE_INVALID",
    "CSV",
    "DATABASE_ERROR",
    "DATE_INVALID",
    "EMPTY_FILE",
    "FILE_CODES",
    "FILE_TOO_LARGE",
    "FILE_TYPE",
    "ID_UPGRADED",
    "KINDS",
    "MACRO_WORKBOOK",
    "MISSING_COLUMN",
    "NO_HEADER",
    "REQUIRED",
    "ROW_CODES",
    "TOO_LONG",
    "UNKNOWN_COLUMN",
    "XLSX",
    "XML_BOMB",
    "ZIP_BOMB",
    "AllowedValues",
    "CellError",
    "ColumnSpec",
    "FileRefused",
    "IdUpgrade",
    "ImportKind",
    "ImportOutcome",
    "Probe",
    "Record",
    "RowProblem",
    "RowReader",
    "Table",
    "as_text",
    "check_upload",
    "choice",
    "error_workbook",
    "get_kind",
    "is_numeric_id",
    "max_bytes",
    "max_lines",
    "max_rows",
    "parse_date",
    "probe",
    "read_rows",
    "read_table",
    "register",
    "run_import",
    "template_workbook",
    "upgrade_notice",
    "yes_no",
]
