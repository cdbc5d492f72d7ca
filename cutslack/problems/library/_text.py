"""Plumbing shared by the library readers: where a file's text comes from, and a token
stream that remembers the line of every token so a :class:`~cutslack.errors.ParseError`
can point at the offending one.

The benchmark formats read here (QAPLIB, OR-Library, TSPLIB sections) are whitespace
streams in which line breaks carry no meaning, so the readers consume numbers by count
and let :class:`TokenStream` say what was expected, where, when the count or a token is
wrong.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cutslack.config import check_memory
from cutslack.errors import InvalidInstanceError, ParseError

__all__ = ["TEXT_LABEL", "READ_BYTES_PER_CHARACTER", "read_source", "source_name", "source_stem", "TokenStream", "build_instance", "last_line",
           "MAX_EXACT_INTEGER"]

#: integers beyond 2**53 are not exact in float64: a token that large is refused as an integer
MAX_EXACT_INTEGER = 2 ** 53

TEXT_LABEL = "<text>"

#: peak bytes per character of reading a file into a token stream (the text, its lines, one Python
#: string and two list slots per token, the float array): tracemalloc measured 22.5, rounded up
READ_BYTES_PER_CHARACTER = 32


def read_source(path_or_text) -> tuple[str, str]:
    """Return ``(text, label)`` of a path or of the text itself.

    A :class:`os.PathLike`, or a string without a newline, is a path (``label`` is the path);
    a string containing a newline is the file's text (``label`` is ``"<text>"``).

    Raises
    ------
    ProblemTooLargeError
        When reading the text into tokens would pass the memory limit (:mod:`cutslack.config`).
    FileNotFoundError
        When the path does not exist.
    TypeError
        When ``path_or_text`` is neither a string nor a path.
    """
    if isinstance(path_or_text, str) and "\n" in path_or_text:
        check_memory("reading the text (tokens)", f"{len(path_or_text)} characters",
                     READ_BYTES_PER_CHARACTER * len(path_or_text))
        return path_or_text.removeprefix("\ufeff"), TEXT_LABEL
    if not isinstance(path_or_text, (str, os.PathLike)):
        raise TypeError(f"expected a path or the file's text, got {type(path_or_text).__name__}")
    path = Path(path_or_text)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    size = path.stat().st_size
    check_memory(f"reading {path} (tokens)", f"{size} bytes", READ_BYTES_PER_CHARACTER * size)
    # utf-8-sig drops a byte-order mark (Windows editors write one); bad bytes become U+FFFD
    return path.read_text(encoding="utf-8-sig", errors="replace"), str(path)


def source_name(label: str) -> str:
    """Return the file name of a source label (``"<text>"`` for text input)."""
    return label if label == TEXT_LABEL else Path(label).name


def source_stem(label: str, default: str) -> str:
    """Return the file name without its last suffix (``default`` for text input)."""
    return default if label == TEXT_LABEL else Path(label).stem


class TokenStream:
    """Whitespace-separated tokens of some lines, each with its 1-based line number.

    Parameters
    ----------
    numbered_lines : iterable of (int, str)
        ``(line number, line text)`` pairs; ``comment`` (when given) starts a comment that
        runs to the end of its line.
    file : str
        The label used in error messages.
    what : str
        What these tokens are (a section name, a block), used in error messages.
    end_line : int, optional
        The line reported when the stream runs out (default: the last line given).
    """

    def __init__(self, numbered_lines, file: str, *, what: str = "the file", comment: str | None = None,
                 end_line: int | None = None):
        tokens: list[str] = []
        lines: list[int] = []
        last = end_line
        for number, text in numbered_lines:
            if comment is not None:
                text = text.split(comment, 1)[0]
            words = text.split()
            tokens.extend(words)
            lines.extend([number] * len(words))
            if end_line is None:
                last = number
        self.tokens = tokens
        self.lines = lines
        self.file = file
        self.what = what
        self.end_line = last
        self.pos = 0

    @classmethod
    def from_text(cls, text: str, file: str, **kwargs) -> "TokenStream":
        """Return the stream of every token of ``text``."""
        return cls(enumerate(text.splitlines(), start=1), file, **kwargs)

    @property
    def remaining(self) -> int:
        """The number of tokens not yet consumed."""
        return len(self.tokens) - self.pos

    @property
    def line(self) -> int | None:
        """The line of the next token (the stream's last line once it is exhausted)."""
        return self.lines[self.pos] if self.pos < len(self.tokens) else self.end_line

    def error(self, message: str, line: int | None = None) -> ParseError:
        """Return a ParseError at ``line`` (default: the next token's line)."""
        return ParseError(message, file=self.file, line=self.line if line is None else line)

    def numbers(self, count: int, what: str, *, integer: bool = False) -> np.ndarray:
        """Return the next ``count`` tokens as a float array (checked integral when ``integer``).

        Raises ParseError when fewer than ``count`` tokens remain (a truncated file), or at
        the line of the first token that is not a finite number (or not an integer).
        """
        if count > self.remaining:
            raise self.error(f"truncated: expected {count} {what} in {self.what}, found only {self.remaining}",
                             line=self.end_line)
        start, stop = self.pos, self.pos + count
        chunk = self.tokens[start:stop]
        try:
            values = np.array(chunk, dtype=float)
            bad = ~np.isfinite(values)
            if integer:
                bad |= (values != np.round(values)) | (np.abs(values) > MAX_EXACT_INTEGER)
            first_bad = int(np.argmax(bad)) if bad.any() else -1
        except ValueError:
            first_bad = next(i for i, token in enumerate(chunk) if not _is_number(token))
        if first_bad >= 0:
            kind = "an integer" if integer else "a finite number"
            raise self.error(f"expected {kind} for {what} in {self.what}, got {chunk[first_bad]!r}",
                             line=self.lines[start + first_bad])
        self.pos = stop
        return values

    def integer(self, what: str, *, minimum: int | None = None) -> int:
        """Return the next token as an int (at least ``minimum`` when given)."""
        line = self.line
        value = int(self.numbers(1, what, integer=True)[0])
        if minimum is not None and value < minimum:
            raise self.error(f"expected {what} of at least {minimum}, got {value}", line=line)
        return value

    def number(self, what: str) -> float:
        """Return the next token as a float."""
        return float(self.numbers(1, what)[0])

    def expect_end(self, after: str) -> None:
        """Raise ParseError at the first leftover token, if any remain."""
        if self.remaining:
            raise self.error(f"expected nothing more after {after} in {self.what}, "
                             f"found {self.remaining} more token(s) starting with {self.tokens[self.pos]!r}")


def last_line(text: str) -> int:
    """Return the number of the last line of ``text`` (1 for an empty text): where a missing part was due."""
    return max(1, len(text.splitlines()))


def build_instance(cls, *args, file: str, line: int, **kwargs):
    """Return ``cls(*args, **kwargs)``, turning its :class:`InvalidInstanceError` into a
    :class:`ParseError` at ``line`` of ``file`` (a reader reports where the bad data are)."""
    try:
        return cls(*args, **kwargs)
    except InvalidInstanceError as exc:
        raise ParseError(f"the data make an invalid {cls.__name__}: {exc}", file=file, line=line) from None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
