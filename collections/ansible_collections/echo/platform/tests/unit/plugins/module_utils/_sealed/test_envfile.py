from __future__ import annotations

import base64

import pytest
from hypothesis import given, strategies as st

from ansible_collections.echo.platform.plugins.module_utils._common.errors import ValidationError
from ansible_collections.echo.platform.plugins.module_utils._sealed.envfile import parse_env, render_env


def test_basic_comments_export_and_equals_in_values():
    text = "# comment\n\nA=1\nexport B=postgres://u:p@h/db?sslmode=require&x=y\nC=abc==\n  D = spaced \n"
    assert parse_env(text) == {"A": "1", "B": "postgres://u:p@h/db?sslmode=require&x=y", "C": "abc==", "D": "spaced"}


def test_quotes_survive():
    text = "A='it''s'\nB=\"say \\\"hi\\\"\"\nC='single \"double\" inside'\nD=\"it's\"\nE=unquoted 'keeps' \"quotes\"\n"
    with pytest.raises(ValidationError, match="line 1: unexpected text after the closing quote of A"):
        parse_env(text)
    text = text.replace("A='it''s'\n", "A=\"it's\" # trailing comment\n")
    assert parse_env(text) == {"A": "it's", "B": 'say "hi"', "C": 'single "double" inside', "D": "it's",
                               "E": "unquoted 'keeps' \"quotes\""}


def test_hash_in_unquoted_value_is_kept():
    assert parse_env("A=abc#def # not a comment\n") == {"A": "abc#def # not a comment"}


def test_multiline_values_and_line_numbers():
    text = "A='line1\nline2'\nB=\"x\\ny\"\nC=3\nbroken line\n"
    with pytest.raises(ValidationError, match="line 5: expected KEY=VALUE"):
        parse_env(text)
    assert parse_env(text.replace("broken line\n", "")) == {"A": "line1\nline2", "B": "x\ny", "C": "3"}


def test_long_base64_value_stays_intact():
    blob = base64.b64encode(bytes(range(256)) * 40).decode()
    assert len(blob) > 10000
    assert parse_env("GCP_SA_JSON=%s\n" % blob)["GCP_SA_JSON"] == blob


def test_json_value_in_single_quotes():
    text = "GCP='{\n  \"type\": \"service_account\",\n  \"private_key\": \"-----BEGIN\\nX\\n\"\n}'\n"
    assert parse_env(text)["GCP"].startswith('{\n  "type"')


def test_errors_never_show_values():
    with pytest.raises(ValidationError) as err:
        parse_env("A=1\nA=CANARY-VALUE\n")
    assert "repeated" in str(err.value) and "CANARY" not in str(err.value)
    with pytest.raises(ValidationError) as err:
        parse_env("A='CANARY-VALUE\n")
    assert "never closed" in str(err.value) and "CANARY" not in str(err.value)
    with pytest.raises(ValidationError, match="not a valid key name"):
        parse_env("BAD KEY=1\n")
    with pytest.raises(ValidationError, match="line 1: expected"):
        parse_env("=value\n")


def test_crlf_and_empty_values():
    assert parse_env("A=\r\nB=''\r\n") == {"A": "", "B": ""}


@given(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,20}", fullmatch=True),
                       st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
                               max_size=200), max_size=10))
def test_render_then_parse_round_trips(values):
    assert parse_env(render_env(values)) == values
