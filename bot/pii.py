"""Masking of shoppers' personal data in logs and exports.

Shoppers type phone numbers, order numbers and addresses into the chat; the
shop needs them in its database, but nowhere else: not in log files (which
end up in ticket systems and chat rooms) and not in the trainer's export.
``mask_pii`` keeps what is useful for debugging or training - the shape of
the value, the province/city/district of an address, the last four digits
of a phone - and hides the rest.

``install_log_masking`` masks every log record of the process (message,
arguments and traceback text, where SQLAlchemy puts the statement's
parameters). The action server and the handoff service call it at start-up.
Plain regular expressions, no dependencies: the handoff service imports this
without Rasa.
"""
from __future__ import annotations

import logging
import re
import traceback

MASK = "****"

# 138 0000 6621, 138-0000-6621, +86 13800006621 (mainland mobile numbers).
_MOBILE = re.compile(r"(?<![\d*])(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?\d{4}[\s-]?(\d{4})(?![\d*])")
# 0571-88886666, 010 12345678 (landlines with an area code).
_LANDLINE = re.compile(r"(?<![\d*])(0\d{2,3})[\s-]?\d{3,4}(\d{4})(?![\d*])")
# Order numbers (16-19 digits) and other long numbers such as ID cards: first and last 4 kept.
_LONG_NUMBER = re.compile(r"(?<![\d*])(\d{4})\d{6,}(\d{3}[\dXx]|\d{4})(?![\d*])")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")

_CJK = "\u4e00-\u9fff"
# Administrative divisions are kept: they locate a city, not a person.
_ADMIN = (rf"(?:[{_CJK}]{{2,12}}?(?:省|自治区|特别行政区|市|自治州|地区|盟|新区|(?<!小)区|县|旗))")
# Everything below the district that leads to a door: street, village, estate, building, room.
_PLACE = rf"[{_CJK}A-Za-z0-9]{{1,14}}?(?:大街|大道|路|街|巷|弄|胡同|村|镇|乡|街道|小区|花园|公寓|大厦|广场|家园|新村|苑|园|里|坊)"
_DOOR = r"[0-9０-９A-Za-z\-－#]{1,8}\s*(?:号楼|号院|号|弄|栋|幢|座|单元|室|层|楼|组|户)"
_DETAIL = (rf"(?:{_PLACE}\s*(?:{_DOOR})?|{_DOOR})"
           rf"(?:[\s,，]?(?:[{_CJK}A-Za-z]{{0,8}}?{_DOOR}|{_PLACE}))*")
_ADDRESS = re.compile(rf"(?P<admin>{_ADMIN}{{1,5}})(?P<detail>{_DETAIL})|(?P<bare>{_PLACE}\s*{_DOOR}"
                      rf"(?:[\s,，]?(?:[{_CJK}A-Za-z]{{0,8}}?{_DOOR}))*)")


def _mask_address(match: re.Match) -> str:
    if match.group("admin"):
        return match.group("admin") + MASK
    return MASK


def mask_phones(text: str) -> str:
    """13800006621 → 138****6621; 0571-88886666 → 0571-****6666."""
    text = _MOBILE.sub(lambda m: f"{m.group(1)}{MASK}{m.group(2)}", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-{MASK}{m.group(2)}", text)


def mask_long_numbers(text: str) -> str:
    """Order numbers and ID numbers: 3829104857263541 → 3829********3541."""
    return _LONG_NUMBER.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 8) + m.group(2), text)


def mask_addresses(text: str) -> str:
    """浙江省杭州市余杭区文一西路1888号 → 浙江省杭州市余杭区****."""
    return _ADDRESS.sub(_mask_address, text)


def mask_pii(text: str) -> str:
    """Phones, long numbers, e-mail addresses and street addresses masked."""
    if not text:
        return text
    text = mask_phones(text)
    text = mask_long_numbers(text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}{MASK}@{m.group(2)}", text)
    return mask_addresses(text)


# ------------------------------------------------------------------ logging

_installed = False


def _mask_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: let logging report it as usual
        return
    record.msg, record.args = mask_pii(message), None
    if record.exc_info and not record.exc_text:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = mask_pii(text)
    if record.stack_info:
        record.stack_info = mask_pii(record.stack_info)


def install_log_masking() -> None:
    """Mask every log record created from now on in this process (idempotent).

    A record factory rather than a handler filter: it covers every logger and
    handler, including those Rasa and aiohttp configure later, and caplog.
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _mask_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
