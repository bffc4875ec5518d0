"""Turning mail bytes into text when the declared charset is missing, wrong or unknown.

Swedish mail mostly arrives as UTF-8, ISO-8859-1 or Windows-1252, and is often
labelled as one while being another; the aim is readable å, ä, ö, € and quotes.
"""

import codecs

# WHATWG treats these labels as Windows-1252: its 0x80-0x9F range holds €, quotes and
# dashes, which real senders mean far more often than the C1 control characters.
_CP1252_ALIASES = {"iso8859-1", "latin-1", "iso-8859-1", "us-ascii", "ascii", "cp1252",
                   "windows-1252"}


def _codec_name(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        name = codecs.lookup(charset.strip().strip('"').lower()).name
        b"a".decode(name, "ignore")  # refuses non-text codecs (base64, quopri, …)
    except (LookupError, ValueError):  # unknown, or not even a name (NUL bytes)
        return None
    return name


def _decode_cp1252(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # Five bytes are undefined in Windows-1252; ISO-8859-1 maps every byte.
        return data.decode("latin-1")


def _looks_like_utf8(data: bytes) -> bool:
    """True if data holds non-ASCII bytes that form valid UTF-8 sequences."""
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_text(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode data by its declared charset with fallbacks; return (text, defect or None)."""
    codec = _codec_name(charset)
    defect = None
    if charset and codec is None:
        defect = "unknown-charset"
    if codec == "utf-8":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text, defect = _decode_cp1252(data), "charset-mismatch"
    elif codec is None or codec in _CP1252_ALIASES:
        if _looks_like_utf8(data):
            text = data.decode("utf-8")
            if codec is not None:
                defect = "charset-mismatch"
        else:
            text = _decode_cp1252(data)
    else:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            if _looks_like_utf8(data):
                text = data.decode("utf-8")
            else:
                text = data.decode(codec, errors="replace")
            defect = "charset-mismatch"
    return text.replace("\x00", ""), defect


def recover_header_bytes(value: str) -> str:
    """Decode raw 8-bit header bytes that the parser kept as surrogate escapes."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", errors="surrogateescape")
        value = decode_text(raw, None)[0]
    return value.replace("\x00", "")
