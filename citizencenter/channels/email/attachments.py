"""Deciding which attachments may be stored: real type by magic bytes, size limits.

The declared Content-Type and the file name are chosen by the sender, so both are
checked against the first bytes of the content before anything is kept.
"""

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

TOO_LARGE = "too-large"
EXECUTABLE = "executable"
BLOCKED_EXTENSION = "blocked-extension"
TYPE_MISMATCH = "type-mismatch"

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
ZIP = "application/zip"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
OLE = "application/x-ole-storage"
TEXT = "text/plain"
WINDOWS_EXECUTABLE = "application/x-msdownload"
ELF = "application/x-executable"
MACH_O = "application/x-mach-binary"
SCRIPT = "text/x-script"
UNKNOWN = "application/octet-stream"

_EXECUTABLE_TYPES = {WINDOWS_EXECUTABLE, ELF, MACH_O, SCRIPT}
_BLOCKED_EXTENSIONS = {
    ".exe", ".com", ".scr", ".pif", ".cpl", ".msi", ".msp", ".dll", ".sys", ".bat", ".cmd",
    ".ps1", ".psm1", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".wsh", ".hta", ".jar", ".lnk",
    ".reg", ".inf", ".scf", ".iso", ".img", ".vhd", ".vhdx", ".appx", ".msix", ".sh",
    ".application", ".gadget", ".chm",
}
# Declared types (by Content-Type or extension) whose content can be checked.
_DECLARED_TYPES = {
    "application/pdf": PDF, "application/x-pdf": PDF, "image/png": PNG, "image/jpeg": JPEG,
    "image/jpg": JPEG, "image/pjpeg": JPEG, "image/gif": GIF, "application/zip": ZIP,
    "application/x-zip-compressed": ZIP, DOCX: DOCX, XLSX: XLSX, PPTX: PPTX,
    "application/msword": OLE, "application/vnd.ms-excel": OLE,
    "application/vnd.ms-powerpoint": OLE,
}
_EXTENSION_TYPES = {
    ".pdf": PDF, ".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".gif": GIF, ".zip": ZIP,
    ".docx": DOCX, ".xlsx": XLSX, ".pptx": PPTX, ".doc": OLE, ".xls": OLE, ".ppt": OLE,
}
# Types that may stand in for each other: a PNG sent as image/jpeg is harmless,
# an Office document is a ZIP archive.
_FAMILIES = [{PNG, JPEG, GIF}, {ZIP, DOCX, XLSX, PPTX}, {OLE}, {PDF}]
_MACH_O_MAGIC = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                 b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


@dataclass(frozen=True)
class Attachment:
    """One attached or inline part; content is None when it was refused."""

    filename: str | None
    declared_type: str
    detected_type: str
    size: int
    content: bytes | None
    inline: bool = False
    content_id: str | None = None
    rejected_reason: str | None = None


def safe_filename(name: str | None) -> str | None:
    """Keep only the last path component, without control characters, at most 255 long."""
    if not name:
        return None
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).replace("\\", "/")
    name = PurePosixPath(name).name.strip().lstrip(".")
    return name[-255:] or None


def _office_type(content: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return ZIP
    for prefix, office in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
        if "[Content_Types].xml" in names and any(n.startswith(prefix) for n in names):
            return office
    return ZIP


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the sniffing window
            return True
    printable = sum(1 for b in head if b >= 0x20 or b in b"\t\r\n\f")
    return printable >= 0.95 * len(head)


def detect_type(content: bytes) -> str:
    """Name the content type the first bytes show, or application/octet-stream."""
    head = content[:4096]
    if head.startswith(b"MZ"):
        return WINDOWS_EXECUTABLE
    if head.startswith(b"\x7fELF"):
        return ELF
    if head.startswith(_MACH_O_MAGIC):
        return MACH_O
    if head.startswith(b"#!"):
        return SCRIPT
    if b"%PDF-" in head[:1024]:  # readers accept the header anywhere in the first KiB
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _office_type(content)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE
    if head and _is_text(head):
        return TEXT
    return UNKNOWN


def _family(content_type: str) -> frozenset[str]:
    for family in _FAMILIES:
        if content_type in family:
            return frozenset(family)
    return frozenset({content_type})


def screen(filename: str | None, declared_type: str, content: bytes, *,
           max_bytes: int, inline: bool = False, content_id: str | None = None) -> Attachment:
    """Check one attachment's size, real type and name; refused ones keep no content."""
    detected = detect_type(content)
    extension = PurePosixPath(filename.lower()).suffix if filename else ""
    expected = [kind for kind in (_DECLARED_TYPES.get(declared_type),
                                  _EXTENSION_TYPES.get(extension)) if kind]
    if len(content) > max_bytes:
        reason: str | None = TOO_LARGE
    elif detected in _EXECUTABLE_TYPES:
        reason = EXECUTABLE
    elif extension in _BLOCKED_EXTENSIONS:
        reason = BLOCKED_EXTENSION
    elif any(detected not in _family(kind) for kind in expected):
        reason = TYPE_MISMATCH
    else:
        reason = None
    return Attachment(filename=filename, declared_type=declared_type, detected_type=detected,
                      size=len(content), content=None if reason else content, inline=inline,
                      content_id=content_id, rejected_reason=reason)
