"""Values arriving from outside (CSV files, forms, the API): one way to read a flag, a date
and a piece of text, so every entry point accepts and refuses the same things.

Each function takes text and returns the value or raises ``ValueError`` with a message a
user can act on; Pydantic reports it as a validation error. Standard library only: the
CLI imports this on start-up.
"""

from __future__ import annotations

import datetime as dt
import re

from iom.errors import FieldError

#: Accepted spellings of a flag (compared case-insensitively, after trimming).
TRUE = frozenset({"true", "t", "yes", "y", "1"})
FALSE = frozenset({"false", "f", "no", "n", "0"})

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only, unlike \d
#: C0 controls and DEL, except tab, line feed and carriage return (free text may hold lines).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_bool(text: str) -> bool:
    """``true``/``false`` and the usual spellings; anything else is refused rather than
    read as false, so a typo in a flag column cannot pass silently."""
    word = text.strip().lower()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def parse_date(text: str) -> dt.date:
    """A date written ``YYYY-MM-DD`` and nothing else: other ISO forms (week dates,
    ``20240131``) that ``date.fromisoformat`` accepts are too easy to misread."""
    trimmed = text.strip()
    if not _DATE.fullmatch(trimmed):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {text!r}")
    try:
        return dt.date.fromisoformat(trimmed)
    except ValueError:
        raise ValueError(f"not a real date: {text!r}") from None


def form_date(text: str | None, *, field: str, what: str = "the date", required: bool = False) -> dt.date | None:
    """A date typed in a form's field: None when left empty (unless ``required``), else the
    date, or a refusal shown by that field."""
    trimmed = (text or "").strip()
    if not trimmed and not required:
        return None
    try:
        return parse_date(trimmed)
    except ValueError:
        raise FieldError(f"{what}: enter a real date, like 2019-03-31" + (f", not {trimmed!r}" if trimmed else ""),
                         field=field) from None


def clean_text(text: str, *, strip: bool = True) -> str:
    """``text`` trimmed (unless ``strip`` is false, e.g. for passwords), refusing control
    characters: PostgreSQL rejects NUL while SQLite would store it, and the others are
    never meant, so both databases see the same refusal before anything is written."""
    bad = _CONTROL.search(text)
    if bad:
        raise ValueError(f"contains a control character (U+{ord(bad.group()):04X}) at position {bad.start() + 1}")
    return text.strip() if strip else text


#: Pydantic's error types in words a user can act on ("{field}" is the field's name).
ERROR_WORDS = {
    "missing": "{field} is needed",
    "int_parsing": "{field} must be a whole number",
    "int_type": "{field} must be a whole number",
    "float_parsing": "{field} must be a number",
    "bool_parsing": "{field} must be yes or no (true or false)",
    "date_parsing": "{field} must be a date like 2019-03-31",
    "date_from_datetime_parsing": "{field} must be a date like 2019-03-31",
    "string_too_short": "{field} is too short",
    "string_too_long": "{field} is too long",
    "string_pattern_mismatch": "{field} is not one of the values this accepts",
    "greater_than_equal": "{field} is too small",
    "less_than_equal": "{field} is too large",
    "json_invalid": "the request body is not valid JSON",
    "value_error": "{field}: {msg}",
}


def plain_error(err: dict) -> str:
    """One validation error in plain words: "per page must be a whole number", never
    "query.per_page: Input should be a valid integer"."""
    loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form", "header", "cookie")]
    field = (loc[-1] if loc else "the request").replace("_", " ")
    ctx = err.get("ctx") or {}
    text = ERROR_WORDS.get(err.get("type", ""), "{field} is not valid").format(
        field=field, msg=str(ctx.get("error", err.get("msg", ""))).removeprefix("Value error, "))
    for key, words in (("max_length", "at most {} characters"), ("min_length", "at least {} characters"),
                       ("le", "at most {}"), ("ge", "at least {}")):
        if key in ctx:
            text += f" ({words.format(ctx[key])})"
    return text


def plain_errors(errors: list[dict], limit: int = 5) -> str:
    """A validation error's first few problems in plain words, joined."""
    return "; ".join(plain_error(err) for err in errors[:limit]) or "the input could not be read"


def field_refusal(errors: list[dict], fields: dict[str, str], default: str) -> FieldError:
    """A form's validation errors as one refusal shown by the field of the first: ``fields``
    maps a schema field to its form field's id, ``default`` is used for the rest."""
    first = next((str(p) for p in (errors[0].get("loc") or ()) if p != "body"), "") if errors else ""
    return FieldError(plain_errors(errors, limit=1), field=fields.get(first, default))
