"""API tokens of `lpr serve`: a token file in, the role of a presented token (admin, read or none) out, compared in constant time.

A token file holds one token a line, optionally followed by `read` for a token that may look
but not change anything (the hotlist, stored reads); a token alone, or followed by `admin`,
may do everything. Blank lines and lines starting with `#` are skipped.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from .errors import LprError

ROLES = ("admin", "read")
# Shorter tokens can be guessed over a network at the rate a server answers.
MIN_TOKEN_LENGTH = 16


class TokenFileError(LprError):
    """A token file cannot be read or holds a malformed line."""


@dataclass(frozen=True)
class Tokens:
    """The accepted tokens, each with its role."""

    roles: tuple[tuple[bytes, str], ...]

    def role(self, presented: str | None) -> str | None:
        """A presented token (None when the request had none) in, its role ("admin" or "read") out, or None when it is not one of these."""
        if not presented:
            return None
        given = presented.encode("utf-8", "surrogateescape")
        found = None
        # Every token is compared, whatever matched: the time taken tells nothing about which, or how much, matched.
        for token, role in self.roles:
            if hmac.compare_digest(token, given):
                found = role
        return found


def parse_tokens(text: str, name: str = "token file") -> Tokens:
    """A token file's text in, its Tokens out; TokenFileError naming the line for a malformed one or when there is no token."""
    roles = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) > 2 or (len(fields) == 2 and fields[1] not in ROLES):
            raise TokenFileError(f"{name}, line {number}: expected TOKEN or TOKEN read (or TOKEN admin)")
        if len(fields[0]) < MIN_TOKEN_LENGTH:
            raise TokenFileError(f"{name}, line {number}: a token needs at least {MIN_TOKEN_LENGTH} characters (make one with: python -c 'import secrets; print(secrets.token_urlsafe())')")
        roles.append((fields[0].encode("utf-8", "surrogateescape"), fields[1] if len(fields) == 2 else "admin"))
    if not roles:
        raise TokenFileError(f"{name}: no token in it")
    return Tokens(tuple(roles))


def load_tokens(path: str | Path) -> Tokens:
    """A token file's path in, its Tokens out; TokenFileError with one line when it cannot be read or is malformed."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as error:
        raise TokenFileError(f"cannot read token file {path} ({error.strerror or error})") from None
    return parse_tokens(text, str(path))


def new_token() -> str:
    """Nothing in, a new random admin token (43 URL-safe characters, 256 bits) out."""
    return secrets.token_urlsafe(32)


def presented_token(authorization: str | None) -> str | None:
    """An Authorization header's value in, the token it carries ("Token KEY", as Plate Recognizer's clients send it, or "Bearer KEY") out, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer") or not token.strip():
        return None
    return token.strip()
