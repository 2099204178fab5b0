"""Stock questions (faq/stock: 还有货吗, 黑色XL有吗, 啥时候补货): the answer from the shop database.

Why not only the FAQ template: 还有XL吗 has one right answer, and it is in product_variants. The
template stays for questions that name no product we know.
"""
from __future__ import annotations

import re
from typing import Optional

from rasa_sdk import Tracker

from actions.shop.models import Product, ProductVariant
from actions.usage import named_product


def _mentions(text: str, word: str) -> bool:
    """``word`` (a size or colour) is in ``text`` on its own: L is not part of XL, 38 not of 138."""
    if not word:
        return False
    return re.search(rf"(?<![a-z0-9]){re.escape(word.lower())}(?![a-z0-9])", text.lower()) is not None


def asked_variants(text: str, variants: list[ProductVariant]) -> Optional[list[ProductVariant]]:
    """The variants the message names by size and/or colour; None when it names none."""
    sizes = {v.size for v in variants if _mentions(text, v.size)}
    colours = {v.colour for v in variants if _mentions(text, v.colour)}
    if not sizes and not colours:
        return None
    return [v for v in variants if (not sizes or v.size in sizes) and (not colours or v.colour in colours)]


def _labels(variants: list[ProductVariant]) -> str:
    return "、".join(v.label for v in variants)


def stock_text(product: Product, text: str) -> str:
    """What a shop assistant would say about the stock of ``product`` for the question ``text``."""
    variants = list(product.variants or [])
    restock = "缺货的款可以在商品页点「到货提醒」，补货后会第一时间通知您~"
    if not any(v.stock > 0 for v in variants) and variants:
        return f"亲，{product.name}暂时全部缺货 😭 {restock}"
    asked = asked_variants(text, variants)
    if asked is None:  # 还有货吗: the product as a whole
        sold_out = [v for v in variants if v.stock <= 0]
        if not sold_out:
            return f"亲，{product.name}现在有货哦，可以放心下单~"
        return f"亲，{product.name}现在有货，只有{_labels(sold_out)}暂时缺货。{restock}"
    in_stock = [v for v in asked if v.stock > 0]
    sold_out = [v for v in asked if v.stock <= 0]
    if not sold_out:
        return f"亲，{product.name}的{_labels(in_stock)}有货哦，可以放心下单~"
    answer = f"亲，{product.name}的{_labels(sold_out)}暂时缺货 😭"
    others = [v for v in variants if v.stock > 0 and v not in asked]
    if in_stock:
        answer += f"，{_labels(in_stock)}有货"
    elif others:
        answer += f"，现在有货的是：{_labels(others[:8])}{'等' if len(others) > 8 else ''}"
    return f"{answer}。{restock}"


async def stock_answer(tracker: Tracker) -> Optional[tuple[str, str]]:
    """(answer, product name) for a stock question about a product we sell; None when no product
    is named or known from the conversation (the FAQ template then asks which one)."""
    product = await named_product(tracker)
    if product is None:
        return None
    text = (tracker.latest_message or {}).get("text") or ""
    return stock_text(product, text), product.name
