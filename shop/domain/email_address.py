"""Customer email addresses, checked as SES will send to them.

An address the API accepts and SES then refuses fails the order at its first email, after the
customer was told 201. So an address is accepted only when SES can take it:

- SES does not support SMTPUTF8 (RFC 6531): the part before the @ must be 7-bit ASCII, and a
  domain with other characters must be sent as IDNA A-labels (punycode). The SES API reference
  says so for every address it takes ("Destination", "SendEmail").
  https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Destination.html
- The part before the @ is an RFC 5322 dot-atom: letters, digits and !#$%&'*+-/=?^_`{|}~,
  with dots between them. Quoted local parts ("john doe"@...) are valid RFC 5322 but refused:
  hardly any mail system accepts them, and their quotes and spaces would only carry mischief.
- The domain is a host name (RFC 1035 / RFC 1123): labels of letters, digits and hyphens, not
  starting or ending with a hyphen, at most 63 characters each, at least two labels, and a top
  level of letters (or an IDNA one, `xn--...`). No IP literals: SES sends to domains.
- Lengths: the local part at most 64 characters (RFC 5321 4.5.3.1.1). The whole address at most
  254: RFC 5321 limits a path to 256 octets including its angle brackets (4.5.3.1.3; RFC 3696
  erratum 1690). 320 (64 + @ + 255) is an upper bound no mail server actually accepts.
  Lengths are counted on the ASCII form SES is given, since that is what SMTP carries.

The address is stored as it is mailed (`stored_form`), a domain in Unicode kept readable in the
customer's emails; `for_sending` gives the ASCII form for SES. IDNA's mapping drops invisible
characters and folds case and width: `ada@exa\u200bmple.com` goes to ada@example.com, and an order
that showed the typed form would show the owner an address no mail went to (or one that only looks
like another: the hidden character is the point of such an address). The customer typed what reads
as example.com and expects mail there, so that is what is stored, shown and mailed.
"""

from __future__ import annotations

import re
import string

from shop.domain.text import forbidden_character

MAX_LENGTH = 254
MAX_LOCAL_PART = 64
MAX_LABEL = 63

_ATEXT = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_TOP_LEVEL = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")


class InvalidEmail(ValueError):
    """Not an address SES can send to; the message says why, in words."""


def _ascii_domain(domain: str) -> str:
    """The domain as SES is given it: lower case, IDNA A-labels for any label that is not ASCII."""
    if domain.isascii():
        return domain.lower()
    import idna  # only for the rare non-ASCII domain: its tables cost import time

    try:
        # UTS #46 mapping first, as browsers and mail clients do: BÜCHER.example and full-width
        # letters fold to the name they mean; IDNA 2008 then decides what is a valid label.
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise InvalidEmail(f"its domain is not a valid internationalized domain name ({error})") from None


def _check_local_part(local: str) -> None:
    if not local:
        raise InvalidEmail("there is nothing before the @")
    if not local.isascii():
        raise InvalidEmail("the part before the @ must be plain ASCII: SES cannot deliver to other characters there")
    if len(local) > MAX_LOCAL_PART:
        raise InvalidEmail(f"the part before the @ is longer than {MAX_LOCAL_PART} characters")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidEmail("the part before the @ cannot start or end with a dot, or have two dots in a row")
    if not set(local) <= _ATEXT | {"."}:
        raise InvalidEmail("the part before the @ may hold only letters, digits, dots and !#$%&'*+-/=?^_`{|}~")


def _check_domain(domain: str) -> None:
    labels = domain.split(".")
    if len(labels) < 2:
        raise InvalidEmail("its domain needs a dot, like example.com")
    for label in labels:
        if not label:
            raise InvalidEmail("its domain cannot start or end with a dot, or have two dots in a row")
        if len(label) > MAX_LABEL:
            raise InvalidEmail(f"a part of its domain is longer than {MAX_LABEL} characters")
        if label.startswith("-") or label.endswith("-"):
            raise InvalidEmail("a part of its domain starts or ends with a hyphen")
        if not _LABEL.fullmatch(label):
            raise InvalidEmail("its domain may hold only letters, digits, hyphens and dots")
    if not _TOP_LEVEL.fullmatch(labels[-1]):
        raise InvalidEmail("its domain must end in a top-level domain of letters, like .com")


def stored_form(address: str) -> str:
    """A checked address as the shop stores and shows it: the one that is mailed, its domain in
    Unicode when the customer wrote it so (`BÜCHER.example` -> `bücher.example`, `exa\u200bmple.com`
    -> `example.com`). An ASCII address is kept as typed: SES is given its domain in lower case, the
    same domain."""
    local, _, domain = address.rpartition("@")
    if domain.isascii():
        return address
    import idna

    return f"{local}@{idna.decode(check_email(address).rpartition('@')[2])}"


def for_sending(address: str) -> str:
    """The address as SES is given it (the domain in ASCII). An address stored before these rules
    that breaks one is given as it is: SES decides, as it did when the order was placed."""
    try:
        return check_email(address)
    except InvalidEmail:
        return address


def check_email(address: str) -> str:
    """The address as SES is given it (the domain in ASCII), or InvalidEmail saying what is wrong."""
    problem = forbidden_character(address)
    if problem:
        raise InvalidEmail(f"it contains {problem}")
    if any(char.isspace() for char in address):
        raise InvalidEmail("it contains a space")
    if len(address) > MAX_LENGTH:  # early: the ASCII form is never shorter
        raise InvalidEmail(f"it is longer than {MAX_LENGTH} characters")
    if address.count("@") != 1:
        raise InvalidEmail("it must have exactly one @, like ada@example.com")
    local, domain = address.split("@")
    _check_local_part(local)
    if not domain:
        raise InvalidEmail("there is nothing after the @")
    ascii_domain = _ascii_domain(domain)
    _check_domain(ascii_domain)
    sent = f"{local}@{ascii_domain}"
    if len(sent) > MAX_LENGTH:
        raise InvalidEmail(f"it is longer than {MAX_LENGTH} characters once its domain is in ASCII")
    return sent
