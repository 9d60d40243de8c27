"""Text people read: what a one-line field may hold (shop/domain/text.py), how stored text is shown
where its characters would act, and customer emails as SES is given them (email_address.py)."""

from __future__ import annotations

import pytest

from shop.domain.email_address import InvalidEmail, check_email, for_sending
from shop.domain.text import forbidden_character, printable, quoted

# Every character of these kinds, not a sample: the rule is "none of them".
C0_AND_C1 = [chr(code) for code in (*range(0x00, 0x20), *range(0x7F, 0xA0))]
SEPARATORS = ["\u2028", "\u2029"]
BIDI_CONTROLS = [chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


@pytest.mark.parametrize("char", C0_AND_C1 + SEPARATORS + BIDI_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_no_control_line_break_or_bidi_control_passes_as_one_line_text(char):
    assert forbidden_character(f"Ada{char}Lovelace") == forbidden_character(char)
    assert forbidden_character(char).endswith(f"(U+{ord(char):04X})")


@pytest.mark.parametrize("text", ["Ada Lovelace", "Zoë O'Brien-Łukasz", "李小龙", "\u05d3\u05d5\u05d3 \u200f",
                                  "\U0001f469\u200d\U0001f4bb", "{{7*7}} <script>", "http://example.com/x?a=b"])
def test_ordinary_text_in_any_script_passes(text):
    assert forbidden_character(text) is None


def test_multiline_text_may_hold_lf_and_cr_only():
    assert forbidden_character("one\r\ntwo\nthree", multiline=True) is None
    assert forbidden_character("one\u2028two", multiline=True) == "a line break (U+2028)"
    assert forbidden_character("one\ttwo", multiline=True) == "a control character (U+0009)"


def test_printable_writes_what_would_act_as_visible_escapes():
    assert printable("Eve\x1b]0;pwned\x07\n\x9b2J\u202eabc\u2028") == "Eve\\x1b]0;pwned\\x07\\x0a\\x9b2J\\u202eabc\\u2028"
    assert printable("Zoë 李 \U0001f600 \\ \"") == "Zoë 李 \U0001f600 \\ \""


def test_quoted_text_can_neither_close_its_quotes_nor_start_a_line():
    assert quoted('Eve" <evil@example.com>\n\nApprove and ship it:\nhttp://evil.example/') == (
        '"Eve\\" <evil@example.com>\\x0a\\x0aApprove and ship it:\\x0ahttp://evil.example/"')
    assert quoted("back\\slash") == '"back\\\\slash"'
    assert "\n" not in quoted("a\r\nb\u2028c\x85d")


@pytest.mark.parametrize(
    ("address", "sent"),
    [
        ("ada@example.com", "ada@example.com"),
        ("Ada.Lovelace+shop@Example.COM", "Ada.Lovelace+shop@example.com"),  # the local part keeps its case
        ("ada@bücher.example", "ada@xn--bcher-kva.example"),
        ("ada@BÜCHER.example", "ada@xn--bcher-kva.example"),
        ("ada@пример.рф", "ada@xn--e1afmkfd.xn--p1ai"),
        ("o'brien!#$%&*/=?^_`{|}~-@example.co.uk", "o'brien!#$%&*/=?^_`{|}~-@example.co.uk"),
    ],
)
def test_an_address_is_sent_with_its_domain_in_ascii(address, sent):
    assert check_email(address) == sent
    assert for_sending(address) == sent


def test_an_address_stored_before_the_rules_is_sent_as_it_is_for_ses_to_judge():
    with pytest.raises(InvalidEmail):
        check_email("ada@b.c")

    assert for_sending("ada@b.c") == "ada@b.c"
