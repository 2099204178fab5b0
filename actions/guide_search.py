"""Picking the usage-guide section that answers a question (BM25 on jieba tokens).

BM25 ranks title + text of each section against the question; section titles
are short, so words that point at a title (第一次 -> 首次使用, 没电 -> 充电 ...)
add a fixed bonus to that section.
"""
from __future__ import annotations

import logging
from typing import Dict, List, Optional, Tuple

import jieba
from rank_bm25 import BM25Okapi

logger = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)
jieba.initialize()  # load the dictionary at start-up, not during the first question

# Question words -> the section title they point at.
SECTION_CUES: Dict[str, Tuple[str, ...]] = {
    "首次使用": ("第一次", "首次", "刚买", "刚收到", "开箱", "新买", "新的", "激活", "配对", "安装", "设置", "绑定", "初次"),
    "日常使用": ("怎么用", "如何用", "使用", "用法", "操作", "模式", "档位", "功能", "多久", "怎么做", "步骤"),
    "清洁保养": ("洗", "清洗", "清洁", "清理", "保养", "除垢", "水垢", "擦", "消毒", "更换"),
    "洗涤保养": ("洗", "洗涤", "机洗", "手洗", "晾", "熨", "缩水", "褪色", "掉色", "保养"),
    "充电": ("充电", "电量", "续航", "没电", "充满", "电池", "充不进"),
    "故障处理": ("坏", "故障", "不工作", "不转", "不加热", "报错", "没反应", "不亮", "不出", "失灵", "异响", "卡", "不启动", "打不开", "连不上", "不灵", "没声音", "漏"),
    "注意事项": ("注意", "安全", "禁忌", "危险", "孕妇", "儿童", "过敏"),
    "储存方法": ("保存", "存放", "冷藏", "冷冻", "储存", "放多久", "保质期", "放冰箱"),
    "食用方法": ("吃", "做法", "烹饪", "煮", "蒸", "煎", "泡", "冲泡", "食用", "怎么喝"),
    "尺码建议": ("尺码", "大小", "码", "偏大", "偏小", "合身", "身高", "体重"),
}
STOPWORDS = set("的 了 吗 呢 啊 呀 吧 我 你 这个 那个 怎么 如何 一下 请问 亲 是 在 要 有 和 就 都 也 还 么 嘛 ？ ? ， , 。 ！ !".split())


def tokens(text: str) -> List[str]:
    return [t for t in jieba.lcut(text or "") if t.strip() and t not in STOPWORDS]


def best_section(guide: Dict[str, str], question: str,
                 product_words: Tuple[str, ...] = ()) -> Optional[Tuple[str, str]]:
    """(title, text) of the best-matching section, or None if nothing matches."""
    if not guide:
        return None
    clean = question or ""
    for word in product_words:
        clean = clean.replace(word, " ")
    query = tokens(clean)
    cued = {title for title, cues in SECTION_CUES.items()
            if title in guide and any(cue in clean for cue in cues)}
    if not query and not cued:
        return None
    titles = list(guide)
    corpus = [tokens(title) * 3 + [title] * 3 + tokens(guide[title]) for title in titles]
    scores = list(BM25Okapi(corpus).get_scores(query)) if query else [0.0] * len(titles)
    # A cue word is strong evidence even where BM25's IDF is small (few sections).
    scores = [score + (1.0 if title in cued else 0.0) for score, title in zip(scores, titles)]
    best = max(range(len(titles)), key=lambda i: scores[i])
    logger.debug("guide scores %s", dict(zip(titles, [round(s, 2) for s in scores])))
    if scores[best] <= 0:
        return None
    return titles[best], guide[titles[best]]
