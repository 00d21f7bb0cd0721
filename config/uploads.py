"""Uploaded files: one check, shared by every upload field, that a file is no
larger than its field allows and that its content is what its name says.

A file's name is the uploader's claim and its first bytes are another; they are
checked together, so a ZIP archive named `.pdf`, or a PNG named `.docx`, is
refused with a message that says what the file looks like ("The selected file
is not a PDF: it looks like a ZIP archive"), tied to the field.

What each accepted extension must contain:
- `.pdf` starts with `%PDF-`; `.png` with the PNG signature; `.jpg`/`.jpeg`
  with a JPEG start-of-image marker.
- `.docx` is a ZIP (Office Open XML) holding `[Content_Types].xml` that names
  the main Word part, that part (`word/document.xml`) and no macros (a `.docm`
  renamed `.docx` is refused).
- `.odt` is a ZIP whose `mimetype` entry says OpenDocument text.
- `.doc` is an OLE2 compound file with a `WordDocument` stream.
- `.csv`, `.tsv`, `.txt`, `.sta`, `.mt940` (bank statements), `.json`, `.yaml`, `.yml`, `.html` are UTF-8 text
  (a byte-order mark allowed) without NUL.

A small signature table rather than a library: puremagic's content-aware scan
of Office files needs Python 3.12 (we run 3.11) and its 1.x magic-number
matching reports a ZIP for a `.docx` and the reverse; we do not need to guess a
file's type among hundreds, only to confirm the one its name declares, which
the standard library's `zipfile` does exactly. Reads are bounded: no entry of
an archive is decompressed beyond `_MAX_PART_BYTES`.

The largest file any field accepts is `settings.MAX_UPLOAD_BYTES`; a field may
set a smaller limit. The request as a whole is capped before it is read by
`config.middleware.RequestSizeLimitMiddleware` (`MAX_REQUEST_BYTES`).
"""

import codecs
import os
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

MB = 1024 * 1024
_HEAD_BYTES = 16
_MAX_PART_BYTES = 256 * 1024

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = (b"PK\x03\x04",)
_DOCX_MAIN = (
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
)
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


@dataclass(frozen=True)
class Kind:
    """A kind of file we accept: the extensions that declare it, how to name it
    in a message, its content type and the check of its content."""

    key: str
    extensions: tuple[str, ...]
    label: str  # "a PDF": what the file is not, or looks like
    content_type: str
    matches: Callable[[bytes, object], bool]


def _read_all(upload) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _zip_names(upload) -> tuple[zipfile.ZipFile, set[str]] | None:
    upload.seek(0)
    try:
        archive = zipfile.ZipFile(upload)
        return archive, set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def _zip_part(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        with archive.open(name) as part:
            return part.read(_MAX_PART_BYTES)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError):
        return b""
    except NotImplementedError:  # an unsupported compression method
        return b""


def _zip_kind(upload) -> str | None:
    """What a ZIP-based file is: "docx", "docm", "xlsx", "pptx", "odt",
    "opendocument" or "zip"; None when it is not a readable ZIP."""
    opened = _zip_names(upload)
    if opened is None:
        return None
    archive, names = opened
    try:
        if "[Content_Types].xml" in names:
            types = _zip_part(archive, "[Content_Types].xml")
            if b"macroEnabled" in types or any(
                n.endswith("vbaProject.bin") for n in names
            ):
                return "docm"
            if _DOCX_MAIN in types and "word/document.xml" in names:
                return "docx"
            if b"spreadsheetml" in types:
                return "xlsx"
            if b"presentationml" in types:
                return "pptx"
        if "mimetype" in names:
            mimetype = _zip_part(archive, "mimetype").strip()
            if mimetype == _ODT_MIMETYPE:
                return "odt"
            if mimetype.startswith(b"application/vnd.oasis.opendocument"):
                return "opendocument"
        return "zip"
    finally:
        archive.close()
        upload.seek(0)


def _ole2_kind(upload) -> str:
    data = _read_all(upload)
    if "WordDocument".encode("utf-16-le") in data:
        return "doc"
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return "xls"
    return "ole2"


def _is_utf8_text(upload) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    upload.seek(0)
    try:
        for chunk in upload.chunks():
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        upload.seek(0)
    return True


KINDS = (
    Kind("pdf", ("pdf",), "a PDF", "application/pdf", lambda h, u: h[:5] == b"%PDF-"),
    Kind(
        "png",
        ("png",),
        "a PNG image",
        "image/png",
        lambda h, u: h[:8] == b"\x89PNG\r\n\x1a\n",
    ),
    Kind(
        "jpeg",
        ("jpg", "jpeg"),
        "a JPEG image",
        "image/jpeg",
        lambda h, u: h[:3] == b"\xff\xd8\xff",
    ),
    Kind(
        "docx",
        ("docx",),
        "a Word document (.docx)",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        lambda h, u: h.startswith(ZIP) and _zip_kind(u) == "docx",
    ),
    Kind(
        "odt",
        ("odt",),
        "an OpenDocument text (.odt)",
        "application/vnd.oasis.opendocument.text",
        lambda h, u: h.startswith(ZIP) and _zip_kind(u) == "odt",
    ),
    Kind(
        "doc",
        ("doc",),
        "a Word 97-2003 document (.doc)",
        "application/msword",
        lambda h, u: h[:8] == OLE2 and _ole2_kind(u) == "doc",
    ),
    Kind(
        "text",
        ("csv", "tsv", "txt", "sta", "mt940", "json", "yaml", "yml", "html"),
        "a text file",
        "text/plain",
        lambda h, u: _is_utf8_text(u),
    ),
)
_BY_EXTENSION = {ext: kind for kind in KINDS for ext in kind.extensions}

# What a refused file looks like, beyond the kinds we accept.
_ZIP_LOOKS = {
    "docx": "a Word document (.docx)",
    "docm": "an Office document with macros",
    "xlsx": "an Excel workbook",
    "pptx": "a PowerPoint presentation",
    "odt": "an OpenDocument text (.odt)",
    "opendocument": "an OpenDocument file",
    "zip": "a ZIP archive",
}
_OLE2_LOOKS = {
    "doc": "a Word 97-2003 document (.doc)",
    "xls": "an Excel 97-2003 workbook",
    "ole2": "an older Microsoft Office file",
}
_PREFIX_LOOKS = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"BM", "a bitmap image"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x1f\x8b", "a compressed (gzip) file"),
    (b"{\\rtf", "a Rich Text document"),
)


def _head(upload) -> bytes:
    upload.seek(0)
    head = upload.read(_HEAD_BYTES)
    upload.seek(0)
    return head


def extension(name: str | None) -> str:
    return os.path.splitext(name or "")[1].lower().lstrip(".")


def detect(upload, *, among: Iterable[Kind] = KINDS) -> Kind | None:
    """The first of `among` whose content check the file passes, or None."""
    head = _head(upload)
    for kind in among:
        if kind.matches(head, upload):
            return kind
    return None


def looks_like(upload) -> str | None:
    """What the content appears to be, for a message; None when unknown."""
    head = _head(upload)
    if head.startswith(ZIP):
        zip_kind = _zip_kind(upload)
        if zip_kind:
            return _ZIP_LOOKS[zip_kind]
    if head[:8] == OLE2:
        return _OLE2_LOOKS[_ole2_kind(upload)]
    if head[8:12] == b"WEBP" and head[:4] == b"RIFF":
        return "a WebP image"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "a HEIC photo"
    for prefix, label in _PREFIX_LOOKS:
        if head.startswith(prefix):
            return label
    kind = detect(upload)
    return kind.label if kind else None


def _accepted_list(extensions: Iterable[str]) -> str:
    extensions = tuple(extensions)
    # GOV.UK names a JPEG "JPG"; say it once.
    names = [
        ext.upper() for ext in extensions if not (ext == "jpeg" and "jpg" in extensions)
    ]
    if len(names) == 1:
        return names[0]
    return _("%(first)s or %(last)s") % {
        "first": ", ".join(names[:-1]),
        "last": names[-1],
    }


def _megabytes(size: int) -> str:
    return f"{size / MB:g}"


def check_upload(
    upload,
    *,
    extensions: Iterable[str],
    max_bytes: int | None = None,
) -> Kind:
    """The file's kind, or a ValidationError whose message is for the person:
    empty, too large, an extension the field does not take, or content that is
    not what the extension says."""
    allowed = tuple(e.lower().lstrip(".") for e in extensions)
    limit = settings.MAX_UPLOAD_BYTES
    if max_bytes is not None:
        limit = min(limit, max_bytes)
    if not upload.size:
        raise forms.ValidationError(_("The selected file is empty"), code="empty")
    if upload.size > limit:
        raise forms.ValidationError(
            _("The selected file must be smaller than %(mb)s MB")
            % {"mb": _megabytes(limit)},
            code="too_large",
        )
    declared = extension(upload.name)
    if declared not in allowed:
        raise forms.ValidationError(
            _("The selected file must be a %(types)s")
            % {"types": _accepted_list(allowed)},
            code="extension",
        )
    kind = _BY_EXTENSION[declared]
    if kind.matches(_head(upload), upload):
        return kind
    label = f"a {declared.upper()} file" if kind.key == "text" else kind.label
    seen = looks_like(upload)
    if seen:
        message = _("The selected file is not %(kind)s: it looks like %(seen)s") % {
            "kind": label,
            "seen": seen,
        }
    else:
        message = _(
            "The selected file is not %(kind)s, whatever its name says. Save it "
            "as %(kind)s and try again"
        ) % {"kind": label}
    raise forms.ValidationError(message, code="content")


@deconstructible
class UploadValidator:
    """A field validator around `check_upload`; `max_bytes` may be a callable
    (read when the file is checked, so a setting can change it)."""

    def __init__(
        self,
        *,
        extensions: Iterable[str],
        max_bytes: int | Callable[[], int] | None = None,
    ):
        unknown = set(extensions) - set(_BY_EXTENSION)
        if unknown:
            raise ValueError(f"No content check for {sorted(unknown)}")
        self.extensions = tuple(extensions)
        self.max_bytes = max_bytes

    def __call__(self, upload) -> None:
        limit = self.max_bytes() if callable(self.max_bytes) else self.max_bytes
        check_upload(upload, extensions=self.extensions, max_bytes=limit)

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, UploadValidator)
            and self.extensions == other.extensions
            and self.max_bytes == other.max_bytes
        )


class CheckedFileField(forms.FileField):
    """A FileField whose file is checked by `check_upload`; the browser's file
    picker offers the same extensions."""

    def __init__(
        self,
        *,
        extensions: Iterable[str],
        max_bytes: int | Callable[[], int] | None = None,
        **kwargs,
    ):
        extensions = tuple(extensions)
        validator = UploadValidator(extensions=extensions, max_bytes=max_bytes)
        kwargs["validators"] = [*kwargs.get("validators", ()), validator]
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", ",".join(f".{e}" for e in extensions))
