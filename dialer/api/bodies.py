"""Bodies a route reads itself (the webhook needs the raw bytes for its signature; the
audience takes JSON or a multipart CSV), validated into the same errors as FastAPI's."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import TypeVar

import pydantic
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import UploadFile

from dialer.api.errors import ApiError

M = TypeVar("M", bound=pydantic.BaseModel)
CHUNK = 64 * 1024


def parse_json(model: type[M], raw: bytes) -> M:
    if not raw.strip():
        raise RequestValidationError([{"type": "missing", "loc": ("body",),
                                       "msg": "a JSON body is required"}])
    try:
        return model.model_validate_json(raw)
    except pydantic.ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


def save_csv(upload: UploadFile, *, max_bytes: int, max_rows: int) -> Path:
    """The upload in a temporary file (the CSV import reads a path); 413 when it is
    larger than ``max_bytes`` or holds more than ``max_rows`` data rows. The caller
    deletes the file."""
    fd, name = tempfile.mkstemp(prefix="dialer-upload-", suffix=".csv")
    path = Path(name)
    try:
        with open(fd, "wb") as handle:
            upload.file.seek(0)
            copied = 0
            while chunk := upload.file.read(CHUNK):
                copied += len(chunk)
                if copied > max_bytes:
                    raise ApiError(413, [("file", f"the CSV is larger than {max_bytes} bytes")])
                handle.write(chunk)
        if _data_rows(path, stop_after=max_rows) > max_rows:
            raise ApiError(413, [("file", f"more than {max_rows} contacts in one audience")])
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _data_rows(path: Path, *, stop_after: int) -> int:
    # Undecodable bytes are the import's to report (with the line): counted leniently.
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as text:
        rows = -1  # the header
        try:
            for row in csv.reader(text):
                if any(cell.strip() for cell in row):
                    rows += 1
                    if rows > stop_after:
                        break
        except csv.Error:
            pass
        return max(rows, 0)


