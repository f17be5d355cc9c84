"""E-mail addresses as the plan holds them and as SMTP needs them.

A unit has exactly one address, ``local@domain.tld``. The domain may be
internationalised (高雄.台灣); it is sent IDNA-encoded. A local part that is
not ASCII (承辦@…) can only be delivered through a server that offers
SMTPUTF8 (RFC 6531), so ``check`` warns about it and ``send`` asks the server.
"""
from __future__ import annotations

import re

from ..quoting import quote

_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_SEPARATORS = re.compile(r"[,;，；、]")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


class BadAddress(ValueError):
    """An address that cannot be used; ``str()`` says why, in zh-TW."""


def address_problem(text: str) -> str | None:
    """Why ``text`` is not one usable address (zh-TW), or None when it is."""
    try:
        smtp_address(text)
    except BadAddress as exc:
        return str(exc)
    return None


def needs_smtputf8(address: str) -> bool:
    """True when the local part is not ASCII: only an SMTPUTF8 server can take it."""
    return not address.rpartition("@")[0].isascii()


def smtp_address(text: str) -> str:
    """The address as SMTP carries it: the domain IDNA-encoded. Raises BadAddress."""
    shown = quote(text)
    if _SEPARATORS.search(text):
        raise BadAddress(f"「{shown}」含有逗號或分號：每個單位只能填一個電子郵件地址")
    if _SPACE_OR_CONTROL.search(text):
        raise BadAddress(f"「{shown}」含有空白、換行或控制字元")
    if text.count("@") != 1:
        raise BadAddress(f"「{shown}」須恰有一個 @，例如 name@agency.gov.tw")
    local, _, domain = text.partition("@")
    _check_local(local, shown)
    return f"{local}@{_ascii_domain(domain, shown)}"


def _check_local(local: str, shown: str) -> None:
    if not local or len(local.encode("utf-8")) > 64:
        raise BadAddress(f"「{shown}」@ 前的帳號須為 1 到 64 個字元")
    for atom in local.split("."):
        if not atom:
            raise BadAddress(f"「{shown}」@ 前的帳號不可以點開頭、結尾或連續兩個點")
        ascii_part = "".join(ch for ch in atom if ch.isascii())
        if ascii_part and not _ATEXT.fullmatch(ascii_part):
            raise BadAddress(f"「{shown}」@ 前的帳號含有不允許的符號")
        if any(not ch.isascii() and not ch.isalnum() for ch in atom):
            raise BadAddress(f"「{shown}」@ 前的帳號含有不允許的符號")


def _ascii_domain(domain: str, shown: str) -> str:
    labels = domain.split(".")
    if len(labels) < 2 or not all(labels):
        raise BadAddress(f"「{shown}」@ 後須為完整網域，例如 agency.gov.tw")
    try:
        encoded = [label if label.isascii() else label.encode("idna").decode("ascii")
                   for label in labels]
    except UnicodeError:
        raise BadAddress(f"「{shown}」的網域含有無法使用的字元") from None
    if not all(_LABEL.fullmatch(label) for label in encoded) or len(".".join(encoded)) > 253:
        raise BadAddress(f"「{shown}」的網域格式不正確")
    if not (encoded[-1].isalpha() or encoded[-1].lower().startswith("xn--")):
        raise BadAddress(f"「{shown}」的網域結尾須為 .tw、.com 等頂級網域")
    return ".".join(encoded).lower()


def same_address(a: str, b: str) -> bool:
    """Whether two addresses are the same mailbox (the domain compared without case)."""
    def norm(text: str) -> str:
        try:
            return smtp_address(text.strip()).lower()
        except BadAddress:
            return text.strip().lower()

    return bool(a) and bool(b) and norm(a) == norm(b)
