"""lpr.tokens: token files, roles and the Authorization header."""

from __future__ import annotations

import pytest

from lpr.tokens import TokenFileError, load_tokens, new_token, parse_tokens, presented_token


def test_tokens_parse_roles_and_match_in_constant_time_by_value():
    tokens = parse_tokens("# desk\nadmin-token-0123456789abcdef\n\nviewer-token-0123456789abcdef read\nother-admin-0123456789abcd admin\n")
    assert tokens.role("admin-token-0123456789abcdef") == "admin" and tokens.role("other-admin-0123456789abcd") == "admin"
    assert tokens.role("viewer-token-0123456789abcdef") == "read"
    assert tokens.role("viewer-token-0123456789abcde") is None and tokens.role("") is None and tokens.role(None) is None
    assert presented_token("Token abc") == "abc" and presented_token("Bearer abc") == "abc"
    assert presented_token("Basic abc") is None and presented_token("Token ") is None and presented_token(None) is None
    for text, says in (("", "no token"), ("admin-token-0123456789abcdef write\n", "line 1"), ("a b c\n", "line 1")):
        with pytest.raises(TokenFileError, match=says):
            parse_tokens(text)


def test_a_token_file_is_read_and_a_missing_one_is_one_line(tmp_path):
    token = new_token()
    assert len(token) >= 40 and token != new_token()
    path = tmp_path / "tokens"
    path.write_text(f"{token}\n")
    assert load_tokens(path).role(token) == "admin"
    with pytest.raises(TokenFileError, match="cannot read token file"):
        load_tokens(tmp_path / "missing")
