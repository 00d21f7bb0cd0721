"""Small files of each kind people upload, made here so the tests need no
binary fixtures: each is a well-formed file of its type (a PDF with its cross-
reference table, a PNG with valid CRCs, an Office Open XML and an OpenDocument
package with their required parts), plus the look-alikes the checks must
refuse."""

import io
import struct
import zipfile
import zlib


def pdf(text: str = "Certificate of attendance") -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    # Start of image, a JFIF APP0 segment, end of image.
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def _zip(entries: dict[str, bytes], *, stored_first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first:
            archive.writestr(
                zipfile.ZipInfo(stored_first),
                entries.pop(stored_first),
                zipfile.ZIP_STORED,
            )
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    b'2006/relationships/officeDocument" Target="%s"/></Relationships>'
)


def _content_types(part: str, content_type: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>'
    ).encode()


def docx(text: str = "Certificate of attendance") -> bytes:
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
        f'2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body>'
        "</w:document>"
    ).encode()
    return _zip(
        {
            "[Content_Types].xml": _content_types(
                "word/document.xml",
                "application/vnd.openxmlformats-officedocument.wordprocessingml."
                "document.main+xml",
            ),
            "_rels/.rels": _RELS % b"word/document.xml",
            "word/document.xml": document,
        }
    )


def docm() -> bytes:
    """A macro-enabled Word document (what a .docx must not be)."""
    return _zip(
        {
            "[Content_Types].xml": _content_types(
                "word/document.xml",
                "application/vnd.ms-word.document.macroEnabled.main+xml",
            ),
            "_rels/.rels": _RELS % b"word/document.xml",
            "word/document.xml": b"<w:document/>",
            "word/vbaProject.bin": b"\xd0\xcf\x11\xe0 macros",
        }
    )


def xlsx() -> bytes:
    return _zip(
        {
            "[Content_Types].xml": _content_types(
                "xl/workbook.xml",
                "application/vnd.openxmlformats-officedocument.spreadsheetml."
                "sheet.main+xml",
            ),
            "_rels/.rels": _RELS % b"xl/workbook.xml",
            "xl/workbook.xml": b"<workbook/>",
        }
    )


def _opendocument(mimetype: bytes) -> bytes:
    manifest = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
        b'xmlns:manifest:1.0" manifest:version="1.2">'
        b'<manifest:file-entry manifest:full-path="/" manifest:media-type="'
        + mimetype
        + b'"/><manifest:file-entry manifest:full-path="content.xml" '
        b'manifest:media-type="text/xml"/></manifest:manifest>'
    )
    return _zip(
        {
            "mimetype": mimetype,
            "content.xml": b'<?xml version="1.0"?><office:document-content/>',
            "META-INF/manifest.xml": manifest,
        },
        stored_first="mimetype",
    )


def odt() -> bytes:
    return _opendocument(b"application/vnd.oasis.opendocument.text")


def ods() -> bytes:
    return _opendocument(b"application/vnd.oasis.opendocument.spreadsheet")


def doc() -> bytes:
    """An OLE2 compound file whose directory names a WordDocument stream (the
    parts the check reads; not a document Word would open)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    entry = "WordDocument".encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64
    root = "Root Entry".encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64
    return header + root + entry + b"\x00" * 256


def plain_zip() -> bytes:
    return _zip({"certificate.pdf": pdf(), "notes.txt": b"hello"})


def csv() -> bytes:
    return (
        "email,first_name\nada@example.org,Ada Lovelace\nzoë@example.org,Zoë\n".encode()
    )


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32
