"""Turn an uploaded document into a source's snapshot text and metadata.

Pure functions, shared by the admin and (later) the API: they take a file's
name and bytes and return an `Extracted` (the text to archive and whatever
metadata the document carries), or raise `ValueError` with a message fit to
show an editor.

- `.txt`: UTF-8 text, kept exactly as in the file (line endings included);
  only a leading byte order mark, which encodes no text, is dropped.
- `.html` / `.htm`: reduced to its article text by trafilatura (navigation,
  footers, scripts, comments and tables left out); the page's <title> and
  the author, date and site name trafilatura finds are returned too.

Nothing is invented: metadata the document does not carry stays empty.
"""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass
from pathlib import PurePath

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
TEXT_EXTENSIONS = frozenset({".txt"})
HTML_EXTENSIONS = frozenset({".html", ".htm"})
SUPPORTED_EXTENSIONS = TEXT_EXTENSIONS | HTML_EXTENSIONS

# Longest values the Source fields take (see sources.models.Source).
TITLE_MAX = 300
AUTHOR_MAX = 200
OUTLET_MAX = 200


@dataclass(frozen=True)
class Extracted:
    """The text to archive as the snapshot, and the document's own metadata ("" / None if absent)."""

    text: str
    title: str = ""
    author: str = ""
    published_on: datetime.date | None = None
    outlet: str = ""

    METADATA = ("title", "author", "outlet", "published_on")

    def fill(self, fields: dict, *, keep: frozenset[str] | set[str] = frozenset()) -> None:
        """Set the snapshot, and the metadata the document carries where `fields`
        left it empty: what the editor typed always wins. `keep`: fields not to touch."""
        fields["snapshot"] = self.text
        for name in self.METADATA:
            value = getattr(self, name)
            if value and not fields.get(name) and name not in keep:
                fields[name] = value


def text_from_upload(name: str, data: bytes) -> Extracted:
    """Dispatch on the file name's extension (case-insensitive)."""
    extension = PurePath(name or "").suffix.lower()
    if extension not in SUPPORTED_EXTENSIONS:
        shown = f"“{extension}” files" if extension else "Files without an extension"
        raise ValueError(
            f"{shown} are not accepted: upload a .txt file (UTF-8) or an .html/.htm page."
        )
    _check_size(data)
    if extension in TEXT_EXTENSIONS:
        return text_from_txt(data)
    return text_from_html(data)


def text_from_txt(data: bytes) -> Extracted:
    """UTF-8 text exactly as in the file; a leading byte order mark is dropped."""
    _check_size(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"The file is not UTF-8 text (invalid byte at position {error.start}). "
            "Save it as UTF-8 and upload it again."
        ) from None
    return Extracted(text=_checked_text(text))


def text_from_html(data: bytes | str) -> Extracted:
    """The article text of an HTML page, with its <title> and the metadata trafilatura finds."""
    _check_size(data)
    trafilatura = _trafilatura()
    tree = trafilatura.load_html(data) if data.strip() else None
    if tree is None:
        raise ValueError("The file could not be read as an HTML page.")
    # trafilatura prunes the tree it is given; each reader gets its own copy.
    metadata = trafilatura.extract_metadata(copy.deepcopy(tree), extensive=False)
    text = trafilatura.extract(
        copy.deepcopy(tree),
        include_comments=False,
        include_tables=False,
        include_images=False,
        favor_precision=True,
    )
    if not text or not text.strip():
        raise ValueError(
            "No article text could be found in this HTML page. "
            "Paste the text instead, or upload it as a .txt file."
        )
    title = _one_line(tree.findtext(".//head/title") or tree.findtext(".//title") or "")
    if not title and metadata is not None:
        title = _one_line(metadata.title or "")
    return Extracted(
        text=_checked_text(text),
        title=title[:TITLE_MAX],
        author=_one_line(getattr(metadata, "author", None) or "")[:AUTHOR_MAX],
        published_on=_date(getattr(metadata, "date", None)),
        outlet=_one_line(getattr(metadata, "sitename", None) or "")[:OUTLET_MAX],
    )


def _check_size(data: bytes | str) -> None:
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(
            f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
            "upload a smaller file or paste the text."
        )


def _checked_text(text: str) -> str:
    if not text.strip():
        raise ValueError("The file contains no text.")
    if "\x00" in text:
        # PostgreSQL text cannot hold NUL, and no real text document has one.
        raise ValueError("The file contains NUL characters: it is not a text document.")
    return text


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _date(value: str | None) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _trafilatura():
    """Import trafilatura lazily: it is slow to import and only HTML uploads need it."""
    import trafilatura

    return trafilatura
