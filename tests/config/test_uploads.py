"""config.uploads: a file's content must be what its name declares."""

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile

from config.uploads import MB, check_upload
from tests import sample_files as s

EVERY = ("pdf", "png", "jpg", "jpeg", "docx", "doc", "odt", "csv", "tsv", "txt")


def refusal(name, content, *, extensions=EVERY, max_bytes=None) -> str:
    with pytest.raises(forms.ValidationError) as caught:
        check_upload(
            SimpleUploadedFile(name, content),
            extensions=extensions,
            max_bytes=max_bytes,
        )
    return caught.value.messages[0]


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("certificate.pdf", s.pdf(), "pdf"),
        ("photo.png", s.png(), "png"),
        ("photo.jpg", s.jpeg(), "jpeg"),
        ("PHOTO.JPEG", s.jpeg(), "jpeg"),
        ("letter.docx", s.docx(), "docx"),
        ("letter.odt", s.odt(), "odt"),
        ("letter.doc", s.doc(), "doc"),
        ("people.csv", s.csv(), "text"),
        ("people.csv", b"\xef\xbb\xbf" + s.csv(), "text"),  # Excel's BOM
    ],
)
def test_a_file_whose_content_matches_its_name_is_accepted(name, content, kind):
    upload = SimpleUploadedFile(name, content)
    assert check_upload(upload, extensions=EVERY).key == kind
    assert upload.read() == content  # left at the start for whoever saves it


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("offer.pdf", s.plain_zip(), "is not a PDF: it looks like a ZIP archive"),
        ("offer.pdf", s.docx(), "is not a PDF: it looks like a Word document (.docx)"),
        ("offer.pdf", s.EXE, "is not a PDF: it looks like a Windows program"),
        ("offer.pdf", b"just some words", "is not a PDF: it looks like a text file"),
        ("offer.pdf", b"\x00\x01\x02\x03" * 8, "is not a PDF, whatever its name says"),
        ("photo.jpg", s.png(), "is not a JPEG image: it looks like a PNG image"),
        ("photo.jpg", s.HEIC, "is not a JPEG image: it looks like a HEIC photo"),
        ("photo.png", s.pdf(), "is not a PNG image: it looks like a PDF"),
        (
            "letter.docx",
            s.plain_zip(),
            "is not a Word document (.docx): it looks like a ZIP archive",
        ),
        (
            "letter.docx",
            s.docm(),
            "is not a Word document (.docx): it looks like an Office document "
            "with macros",
        ),
        (
            "letter.docx",
            s.xlsx(),
            "is not a Word document (.docx): it looks like an Excel workbook",
        ),
        ("letter.docx", s.doc(), "it looks like a Word 97-2003 document (.doc)"),
        (
            "letter.odt",
            s.ods(),
            "is not an OpenDocument text (.odt): it looks like an OpenDocument file",
        ),
        ("letter.odt", s.docx(), "it looks like a Word document (.docx)"),
        ("letter.doc", s.docx(), "is not a Word 97-2003 document (.doc)"),
        ("people.csv", s.plain_zip(), "is not a CSV file: it looks like a ZIP archive"),
        ("people.csv", b"email\x00,name\n", "is not a CSV file"),
        ("people.csv", "Zoë".encode("latin-1"), "is not a CSV file"),
    ],
)
def test_content_that_is_not_what_the_name_says_is_refused(name, content, message):
    assert message in refusal(name, content)
    assert refusal(name, content).startswith("The selected file is not ")


def test_an_extension_the_field_does_not_take_is_refused_with_the_list():
    assert refusal("cv.exe", s.EXE, extensions=("pdf", "png", "jpg", "jpeg")) == (
        "The selected file must be a PDF, PNG or JPG"
    )
    assert refusal("no-extension", s.pdf(), extensions=("pdf",)) == (
        "The selected file must be a PDF"
    )


def test_an_empty_file_is_refused():
    assert refusal("empty.pdf", b"") == "The selected file is empty"


def test_the_field_limit_and_the_site_limit_both_hold(settings):
    content = s.pdf() + b"0" * (2 * MB)
    assert refusal("big.pdf", content, max_bytes=MB) == (
        "The selected file must be smaller than 1 MB"
    )
    settings.MAX_UPLOAD_BYTES = MB // 2
    assert refusal("big.pdf", content, max_bytes=5 * MB) == (
        "The selected file must be smaller than 0.5 MB"
    )
