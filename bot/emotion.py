"""How upset is the shopper? A rule scorer over word lists, as a Rasa component.

Output on every parsed message (``parse_data["emotion"]``, hence
``tracker.latest_message["emotion"]``)::

    {"label": "calm" | "impatient" | "frustrated" | "angry",
     "score": 0..1,            # anger/frustration intensity
     "cues": ["negative:垃圾", "intensifier:太", ...],
     "threat": bool, "safety": bool, "sarcasm": bool}

Why rules and not a model: no Chinese anger model runs offline from PyPI,
polarity models call calm facts ("快递还没到") negative, and the handoff
decision must be explainable to agents (the cues) and tunable by a trainer
(data/emotion/*.txt). How the score is built (docs/escalation.md):

* every cue that fires has a weight in [0, 1] (its list's column);
  an intensifier just before it (太, 到底, 根本 ...) multiplies the weight;
  a negator just before it (不, 没有, 不是 ...) cancels it, unless the clause
  is rhetorical (难道, 是不是, ...吗);
* ironic praise (效率真高啊) counts as sarcasm when the same message
  complains, as praise otherwise;
* punctuation runs (！！！), repeated phrases (快点快点) and emoji come from
  the raw text; the normaliser removed emoji and capped punctuation;
* score = 1 - Π(1 - w) over the cues (noisy-OR: each cue is independent
  evidence, the result stays in [0, 1]); praise without sarcasm halves it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.emotion_lexicon import NEGATION_FILLERS, Entry, Lexicon, cached_lexicon
from bot.textnorm import clause_gaps, is_emoji, normalise

EMOTION = "emotion"
RAW_TEXT = "text_raw"

# Label thresholds on the score (documented in docs/escalation.md).
ANGRY_AT = 0.6
FRUSTRATED_AT = 0.35
NEGATIVE_FRUSTRATED_AT = 0.2
PRAISE_DAMPING = 0.5
SARCASM_WEIGHT = 0.6
# A sarcasm marker (呵呵, 真的会谢) next to a reported failure is anger.
SARCASM_IN_FAILURE_WEIGHT = 0.6
NEGATED_PRAISE_WEIGHT = 0.2
# Intensifiers count only this close before the cue they strengthen.
INTENSIFIER_WINDOW = 4

_CLAUSE_BREAK = re.compile(r"[,.!?;:~，。！？；：、\s\n]")
_BANG_RUN = re.compile(r"[!！]{2,}")
_QUESTION_RUN = re.compile(r"[?？]{2,}")
_MIXED_RUN = re.compile(r"[!！?？]{3,}")
_REPEAT = re.compile(r"([\u3400-\u9fffa-z]{2,4}[!?,.~]?)\1+|([\u3400-\u9fff])\2\2+")
# Repeated units that are friendly or filler, never a sign of impatience.
_FRIENDLY_REPEATS = {"谢谢", "哈哈", "嘻嘻", "嗯嗯", "好的", "拜拜", "亲亲", "对对",
                     "是是", "好好", "嘿嘿", "呵呵", "哈", "嗯", "好", "对"}
_URGE_UNITS = ("快", "急", "人呢", "在吗", "在不在", "回复", "回话", "到底", "赶紧", "退款", "催",
               "人工", "客服", "说话")
_RHETORICAL_BEFORE = ("难道", "是不是", "是不", "岂不是", "还不是")
_RHETORICAL_END = ("吗", "么", "嘛")
_HYPOTHETICAL = ("会不会", "会不", "是否", "能不能", "有没有", "容易", "担心", "怕", "防止",
                 "避免", "不会", "会吗", "可能", "如果", "万一", "预防",
                 # 正常工作时外壳会有多烫: how hot it gets, a question about normal use
                 "有多", "多烫", "多热", "几度")
# Hearsay that the shopper doubts (我朋友说你们是骗子，应该不是吧): the accusation is not theirs.
_HEARSAY = re.compile(r"(朋友|别人|有人|网上|网友|同事|家人|他们|她们|评论|评价里|听说)(都)?(说|讲|讲的|传)")
_DOUBT = ("不是吧", "不会吧", "我不信", "不太信", "不相信", "应该不是", "是真的吗", "真的吗", "是吗",
          "不会是", "我觉得不是", "谣言", "不可能吧", "没必要", "不至于", "犯不着", "用不着",
          "应该不会", "不会这样", "不会这么")
# A problem the shop already put right (上次坏了一个你们给补发了，这次好评): with praise in the
# message, the failure cues before the marker are background, not a complaint now.
_RESOLVED = re.compile(r"(已经|都|给我|帮我|你们|自己)?(解决|处理好|搞定|补发|补寄|换好|重新发|退回来|退好|弄好|拧好|修好|装好|调好)了|"
                       r"(补发|补寄|重发|重新发|换)(的|过来的|回来的|来的)?(东西|配件|那个|那件)?(也|已经|都)?(收到|到|拿到)了")
_HEARSAY_CATEGORIES = ("negative", "abuse", "threat")
# Another shop (朋友打过12315投诉别的店, 别家的客服太垃圾): a cue in that clause is not about us.
_OTHER_SHOP = re.compile(r"别的店|别的商家|别家|别人家|其他店|其它店|其他家|其他商家|另一家|另外一家|隔壁店|那家店")
# Words that put the shop in a clause: then the clause is about us whatever else it names.
_OUR_SHOP = re.compile(r"你们|你家|您家|贵店|本店")
_SHOP_WORDS = re.compile(r"你们|你家|您家|贵店|店家|商家|卖家|本店|客服|机器人|快递|物流|订单|发货|退款|退货|"
                         r"包裹|售后|质量|东西|商品|宝贝")
# News and internet hearsay (看新闻说有充电宝起火): a hazard someone else met, not a report.
_SAFETY_HEARSAY = re.compile(r"新闻|报道|网上(说|看到|传|有人|都说)|网传|听说|据说|有人说|看到有人|网友")
# 孩子吞了个纽扣电池？不不不 我是看新闻说的: the shopper names the hazard, then says it was news or
# hearsay, or denies it outright: every safety cue before that (even an event) is not a report.
_SAFETY_SOURCE = re.compile(r"(我|我只|我就|只)?是(在)?(看|听|刷|从)[^,.!?;]{0,8}(说|讲|看到|听到|报道|写)的|"
                            r"(新闻|报道|视频|网上)(上|里)?(说|报道|看到|写)的|不不不|没有没有|不是我家|不是我们家|我家没有")
# A complaint or threat the shopper says was a joke or said in anger and taken back (开玩笑的哈 我要是投诉
# 你们…, 之前说要差评是气话): the cues in the marker's clause and the clauses next to it do not count.
# 开玩笑的吧 / 开什么玩笑 / 不是开玩笑 are anger, not a joke.
_JOKE = re.compile(r"(开玩笑的|开个玩笑|逗你们?(的|玩)|说着玩的|闹着玩的|随口一说|随便说说的|(是|说的|都是|只是)气话|"
                   r"气头上说的|一时冲动说的)(?![吧吗呢?])")
_JOKE_DENIED = re.compile(r"不是|没|别|不跟|谁(跟|和)")
# A near miss (差点呛到, 险些烫伤) is a hazard that happened: these negators do not cancel safety.
_NEAR_MISS = ("差点", "差一点", "险些", "几乎")
# 会不会…吞了 / 容不容易…炸了: asked about before the hazard verb, even with 了 after it.
_MODAL_BEFORE = ("会不会", "是否会", "会不", "容不容易", "容易", "有没有可能", "可不可能", "可能会", "担心", "怕")
# A question about the review system (写了差评还能改吗, 差评会被删吗) is no threat; a threat
# names the act (给/打/等着 差评) or makes 差评 a consequence (不处理就差评).
_REVIEW_WORD = "差评"
_REVIEW_QUESTION = ("能不能", "可不可以", "可以", "还能", "能否", "会不会", "是否", "会被", "会影响", "影响",
                    "怎么", "如何", "多久", "规则", "删", "修改", "改成", "追评")
_REVIEW_THREAT_BEFORE = re.compile(r"(给|打|必须|等着|就|要|想|只能|直接|果断|肯定|一定|否则|不然)(?![了过的])")
# Somebody else's review read as information (看到有人给了差评说尺码偏小, 差评里都说偏小).
_OTHERS_REVIEW_BEFORE = re.compile(r"有人|别人|其他人|其他买家|别的买家|买家|网友|大家|好多人|很多人|不少人|"
                                   r"评论区|评价区|看到|看了|看过|翻了|翻到|刷到")
_OTHERS_REVIEW_AFTER = re.compile(r"(里|区|中|上)|(都|也)?(说|写|提到)")
# An institution as a place (邻居在派出所上班, 家在法院旁边), not a threat to go there.
_PLACE_AFTER = re.compile(r"的?(上班|工作|实习|值班|上岗|当差|旁边|附近|对面|门口|隔壁|楼下|楼上)")
# A question about how complaints work, or the subject of a text (投诉的流程是怎样的, 关于网购维权的作业):
# no threat when nothing else in the message complains and the shopper commits to nothing.
_PROCESS_QUESTION = re.compile(r"流程|步骤|手续|一般|大概多久|多久能|多久有|多久会|几天能|几天有|是怎样|是怎么样|是什么样|怎么走|需要什么|需要哪些|"
                               r"要什么材料|关于|作业|论文|课题|科普|常识|调研|问卷")
_COMMITMENT = re.compile(r"我们?(要|就|会|想)|想要|准备|打算|必须|一定|再不|不然|否则|等着|直接|马上|"
                         r"就(去|要|找|打|走|报|告|投诉|起诉)")
# Polite urging (赶紧发货吧亲，急急急！！) is mild impatience: with only urging cues and a
# friendly word, the score stays at the impatient level.
_URGING_CUES = frozenset({"急", "急用", "着急", "赶紧", "尽快", "快点", "快一点", "能快点", "快些", "催"})
_POLITE = re.compile(r"亲|哈|呀|吧|哦|噢|啦|嘛|拜托|麻烦|谢谢|辛苦|求求")
POLITE_URGING_CAP = 0.3
# Exasperation (服了, 心累, 崩溃; exasperation.txt) next to a complaint (服了 每次都说在处理) is
# anger on its own; alone (服了) it stays frustration.
EXASPERATION_IN_COMPLAINT = 0.45
# An ultimatum (看着办, 最好给我个解释; ultimatums.txt) with a lever anywhere in the message
# (我微博好几万粉丝, 我老公是做律师的, 差评写好了; levers.txt) is a threat.
ULTIMATUM_THREAT_WEIGHT = 0.5
# 孩子吃了 / 宝宝一直拿它喝水 (tag ``exposure``) is a safety case only when the message also says
# something is wrong: another hazard or symptom cue, or one of these. 孩子吃了说好吃 is praise.
_EXPOSURE_CONCERN = re.compile(
    r"有毒|毒性|中毒|有害|致癌|有没有事|会不会有事|有事吗|没事吧|要紧|医院|送医|急诊|洗胃|催吐|120|"
    r"不舒服|难受|(内胆|杯|碗|锅|奶瓶|餐具|勺|筷|水壶|饭盒|涂层)[^,.!?;]{0,4}(掉漆|掉色|脱落|起皮|剥落|生锈)")
# A review already written and held over the shop (差评我已经写好了, 写好的差评): no question about
# reviews, whatever else the clause asks.
_REVIEW_WRITTEN = re.compile(r"差评[^,.!?;]{0,4}(写好|编辑好|准备好|拟好|打好|写完)了|(写好|编辑好|准备好|拟好)了?的差评")
# A complaint word taken back by a rhetorical 还…个啥 (要是都这么靠谱 我还投诉个啥) or the meme
# 差评是不可能差评的 (投诉是不会投诉的): the shopper says they will not.
_WOULD_NOT_BEFORE = re.compile(r"还(要|能|会|给|打|去|用)?$")
_WOULD_NOT_AFTER = re.compile(r"(个|些)?(啥|什么|个屁|个毛)")
_NEVER_AFTER = re.compile(r"(是|那是)(绝|永远)?(不可能|不会)")
# 我真的会谢 / 谢谢你们啊 are sarcasm shaped like thanks: with praise and nothing that complains
# (我真的会谢 上次客服小姐姐太有耐心了) they are thanks.
_THANKS_SHAPED = "谢"
# 无语 怎么还没发 好吧 那你帮我看看: the shopper gives in and asks the bot for something; the
# exasperation is not lifted to the handoff level by the other complaint.
_RESIGNED = re.compile(r"(好吧|行吧|那好吧|算了|罢了|也行吧|好叭)[^,.!?;]{0,3}(那|就)?(你|您|麻烦你?|请)?(帮我|给我|先帮我|再帮我|帮忙)")
# 气死我了 这么好看怎么现在才发现你们家 …哈哈: an anger word said laughing, beside praise of the shop and
# nothing else that complains, is a joke.
_LAUGHING = re.compile(r"哈哈|嘿嘿|嘻嘻|hhh|233|笑死|😂|🤣|😆|😄|😁")
# Thanks as the formal close of a strong complaint (严重不符。希望给出合理解释。谢谢。) is no praise.
_COURTESY = frozenset({"谢谢", "感谢", "多谢", "谢了"})
COURTESY_AFTER_COMPLAINT = 0.35
_ANGER_CATEGORIES = ("abuse", "negative", "impatience", "threat", "safety", "sarcasm")


@dataclass
class Reading:
    """The emotion of one message."""

    label: str = "calm"
    score: float = 0.0
    cues: list[str] = field(default_factory=list)
    threat: bool = False
    safety: bool = False
    sarcasm: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": self.score, "cues": list(self.cues),
                "threat": self.threat, "safety": self.safety, "sarcasm": self.sarcasm}


@dataclass
class _Hit:
    start: int
    end: int
    entry: Entry
    weight: float
    negated: bool = False
    boost: str = ""
    # Why a cue was set aside without a negator (``unconcerned``: 孩子吃了 with nothing wrong).
    dropped: str = ""


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Start and end of the clause (between punctuation) containing [start, end)."""
    left = start
    while left > 0 and not _CLAUSE_BREAK.match(text[left - 1]):
        left -= 1
    right = end
    while right < len(text) and not _CLAUSE_BREAK.match(text[right]):
        right += 1
    return left, right


def _is_negated(text: str, hit: _Hit, lex: Lexicon) -> bool:
    """A negator before the cue, with only filler words between, in the same clause."""
    left, right = _clause_bounds(text, hit.start, hit.end)
    before = text[left:hit.start]
    if not before:
        return False
    # 是不可能 / 是不会 are plain negations (差评是不可能差评的), not the rhetorical 是不(是).
    if any(marker in re.sub(r"不可能|不会", "", before) for marker in _RHETORICAL_BEFORE):
        return False
    tail = text[hit.end:right]
    if tail.endswith(_RHETORICAL_END) and hit.entry.category != "praise":
        # 这不是骗人吗: a rhetorical question affirms, it does not negate.
        if "不是" in before or "没" in before:
            return False
    stripped = before
    for _ in range(4):
        for filler in NEGATION_FILLERS:
            if stripped.endswith(filler) and not stripped.endswith(lex.negators):
                stripped = stripped[: -len(filler)]
                break
        else:
            break
    if hit.entry.category == "safety" and stripped.endswith(_NEAR_MISS):
        return False  # 差点呛到: the hazard was real, only the harm was avoided
    return stripped.endswith(lex.negators)


def _would_not(text: str, hit: _Hit) -> bool:
    """我还投诉个啥 / 差评是不可能差评的: the complaint word is one the shopper says they will not use."""
    if hit.entry.category not in ("negative", "threat"):
        return False
    left, right = _clause_bounds(text, hit.start, hit.end)
    before, after = text[left:hit.start], text[hit.end:right]
    if _WOULD_NOT_BEFORE.search(before) and _WOULD_NOT_AFTER.match(after):
        return True
    never = _NEVER_AFTER.match(after)  # 差评是不可能差评的 / 投诉是不会投诉的 / 差评是不可能的
    return bool(never) and after[never.end():].startswith((hit.entry.name, "的"))


def _is_hypothetical(text: str, hit: _Hit) -> bool:
    """会过敏吗 / 担心漏电: a question about a risk, not a report of one."""
    source = _SAFETY_SOURCE.search(text, hit.end)
    if source and _clause_bounds(text, hit.start, hit.end)[1] <= source.start():
        return True  # 孩子吞了个电池？不不不 我是看新闻说的: news, or denied
    if hit.entry.tag in ("event", "exposure"):
        return False
    left, right = _clause_bounds(text, hit.start, hit.end)
    clause = text[left:right]
    if _SAFETY_HEARSAY.search(clause):
        return True  # 看新闻说有充电宝冒烟起火: someone else's incident
    if not _OUR_SHOP.search(clause) and (_OTHER_SHOP.search(clause) or _story_about_another_shop(text, left)):
        return True  # 我闺蜜在别家买的吹风机冒烟了: another shop's goods
    if any(marker in text[left:hit.end] for marker in _MODAL_BEFORE):
        return True  # 会不会被宝宝咬下来吞了: the modal comes before the hazard verb
    if text[hit.end:hit.end + 1] == "了":
        return False
    return any(marker in clause for marker in _HYPOTHETICAL) or clause.endswith(_RHETORICAL_END)


def _is_review_question(text: str, hit: _Hit) -> bool:
    """差评会被删吗 / 写了差评还能改成好评吗: asking how reviews work, not threatening one."""
    if _REVIEW_WORD not in hit.entry.name:
        return False
    left, right = _clause_bounds(text, hit.start, hit.end)
    clause = text[left:right]
    if any(marker in clause for marker in _RHETORICAL_BEFORE) or _REVIEW_THREAT_BEFORE.search(text[left:hit.start]):
        return False
    if _REVIEW_WRITTEN.search(clause):
        return False
    asks = clause.endswith(_RHETORICAL_END + ("呢",)) or text[right:right + 1] == "?"
    if asks or any(marker in clause for marker in _REVIEW_QUESTION):
        return True
    return bool(_OTHERS_REVIEW_BEFORE.search(text[left:hit.start]) or _OTHERS_REVIEW_AFTER.match(text, hit.end))


def _is_a_place(text: str, hit: _Hit) -> bool:
    """派出所上班 / 法院旁边: the institution is where someone works or lives, not a threat."""
    return hit.entry.category == "threat" and bool(_PLACE_AFTER.match(text, hit.end))


def _mark_places(hits: list[_Hit], reading: Reading) -> None:
    """A shorter threat cue inside a place (工商 in 工商局对面) is the same place."""
    places = [(h.start, h.end) for h in hits if f"place:{h.entry.name}" in reading.cues]
    for hit in hits:
        if not hit.negated and hit.entry.category == "threat" and any(
                s <= hit.start and hit.end <= e for s, e in places):
            hit.negated = True
            reading.cues.append(f"place:{hit.entry.name}")


def _mark_general_questions(text: str, hits: list[_Hit], reading: Reading, lex: Lexicon) -> None:
    """投诉的流程是怎样的 / 关于网购维权的作业: complaint words in a question about the process or as
    a subject, not a complaint. Only when every complaint word is used so, the shopper commits to
    nothing before it (我要投诉，流程是怎样的 still counts) and nothing else in the message complains
    (退款还没到，投诉流程是怎样的 still counts)."""
    live = [h for h in hits if not h.negated]
    words = [h for h in live if h.entry.category == "threat"
             or (h.entry.category == "negative" and "投诉" in h.entry.name)]
    if not words:
        return
    chosen = {id(h) for h in words}
    others = [h for h in live if id(h) not in chosen and (
        h.entry.category in ("abuse", "negative", "sarcasm", "context")
        or (h.entry.category == "impatience" and h.weight >= 0.1))]
    if others:
        return
    asked = False
    for hit in words:
        left, right = _clause_bounds(text, hit.start, hit.end)
        if _COMMITMENT.search(text, left, hit.start):
            return
        if _PROCESS_QUESTION.search(text, left, right):
            asked = True
        elif not _about_someone_else(text, hit, lex):
            return  # 平台投诉一般多久处理完 我朋友投诉了别家店: the question, then someone else's case
    if not asked:
        return
    for hit in words:
        hit.negated = True
        reading.cues.append(f"question:{hit.entry.name}")


def _about_someone_else(text: str, hit: _Hit, lex: Lexicon) -> bool:
    """The cue's clause is about another shop (投诉别的店) or, for anger words, about life
    outside the shop (追剧追得气死了, 我老公气死我了), and names nothing of ours."""
    left, right = _clause_bounds(text, hit.start, hit.end)
    clause = text[left:right]
    if _OUR_SHOP.search(clause):
        return False
    if _OTHER_SHOP.search(clause):
        return True  # 在别家买东西打过12315: the goods and the complaint are theirs
    if _SHOP_WORDS.search(clause):
        return False
    if _story_about_another_shop(text, left):
        return True  # 之前在别的店买到过山寨货 投诉到12315才退: the story goes on
    return (hit.entry.category in ("negative", "abuse", "context", "impatience") and lex.offtopic_regex is not None
            and bool(lex.offtopic_regex.search(clause)))


def _story_about_another_shop(text: str, clause_start: int) -> bool:
    """The nearest earlier clause that names a shop or shop things names another shop: a clause
    that names none (投诉到12315才退) continues that story. 别家都发了 我的快递还没动 is ours again."""
    end = clause_start - 1
    while end > 0:
        left, _ = _clause_bounds(text, end - 1, end - 1)
        clause = text[left:end]
        if _OUR_SHOP.search(clause):
            return False
        if _OTHER_SHOP.search(clause):
            return True
        if _SHOP_WORDS.search(clause):
            return False
        end = left - 1
    return False


def _mark_resolved(text: str, hits: list[_Hit]) -> None:
    """Failure cues before a 'put right' marker count as background when the shopper praises."""
    resolved = [m.end() for m in _RESOLVED.finditer(text)]
    # The thanks after it may be shaped like sarcasm (谢谢你们): put right, it is thanks.
    if not resolved or not any(h.entry.category in ("praise", "ironic") and not h.negated and h.start >= resolved[-1]
                               for h in hits):
        return
    for hit in hits:
        if hit.end <= resolved[-1] and hit.entry.category in ("negative", "context"):
            hit.negated = True


def _mark_joking(text: str, hits: list[_Hit], reading: Reading) -> None:
    """开玩笑的哈 我要是投诉你们… / 之前说要差评是气话: a threat or complaint word in the clause of a
    'joke' or 'said in anger' marker, or in the clause just before or after it, is taken back."""
    for m in _JOKE.finditer(text):
        left, right = _clause_bounds(text, m.start(), m.end())
        if _JOKE_DENIED.search(text, max(left, m.start() - 4), m.start()):
            continue  # 我不是开玩笑的
        start = _clause_bounds(text, left - 1, left - 1)[0] if left > 0 else left
        end = _clause_bounds(text, right + 1, right + 1)[1] if right + 1 < len(text) else right
        for hit in hits:
            if (not hit.negated and hit.entry.category in ("threat", "negative", "abuse")
                    and start <= hit.start and hit.end <= end):
                hit.negated = True
                reading.cues.append(f"joke:{hit.entry.name}")


def _mark_off_topic(text: str, hits: list[_Hit], lex: Lexicon, reading: Reading) -> None:
    """Cues about someone else's business do not count, but only when nothing else in the
    message complains: 追剧气死了，帮我查下订单 is calm; 老公气死了，你们又发错货 is not."""
    complaints = [h for h in hits if not h.negated and (
        h.entry.category in _HEARSAY_CATEGORIES + ("context", "sarcasm")
        or (h.entry.category == "impatience" and h.weight >= 0.1))]
    off = [h for h in complaints if _about_someone_else(text, h, lex)]
    if not off or len(off) < len(complaints):
        return
    for hit in off:
        hit.negated = True  # 考试又没过: the wait and the failure are the exam's too
        if hit.entry.category != "context":
            reading.cues.append(f"offtopic:{hit.entry.name}")


def _intensifier_before(text: str, hit: _Hit, lex: Lexicon) -> tuple[str, float]:
    if lex.intensifier_regex is None:
        return "", 1.0
    left, _ = _clause_bounds(text, hit.start, hit.end)
    window_start = max(left, hit.start - INTENSIFIER_WINDOW)
    best, factor = "", 1.0
    for m in lex.intensifier_regex.finditer(text, window_start, hit.start):
        f = lex.intensifiers.get(m.group(0), 1.0)
        if f > factor:
            best, factor = m.group(0), f
    return best, factor


def _scan(text: str, lex: Lexicon) -> list[_Hit]:
    hits: list[_Hit] = []
    if lex.word_regex is not None:
        for m in lex.word_regex.finditer(text):
            for entry in lex.words.get(m.group(0), ()):
                hits.append(_Hit(m.start(), m.end(), entry, entry.weight))
    neutral = [(h.start, h.end) for h in hits if h.entry.category == "neutral"]
    for pattern, entry in lex.patterns:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in neutral):
                continue  # 心率报警, 工商登记: the cue is part of an ordinary compound
            named = Entry(entry.category, entry.weight, m.group(0), entry.tag)
            hits.append(_Hit(m.start(), m.end(), named, entry.weight))
    return hits


def _dedupe(hits: list[_Hit]) -> list[_Hit]:
    """Overlapping anger cues are one piece of evidence: keep the strongest."""
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (-h.weight, h.start)):
        if any(h.start < hit.end and hit.start < h.end for h in kept):
            continue
        kept.append(hit)
    return sorted(kept, key=lambda h: h.start)


def _punctuation_weight(raw: str) -> tuple[str, float]:
    bang = max((len(m.group(0)) for m in _BANG_RUN.finditer(raw)), default=0)
    ask = max((len(m.group(0)) for m in _QUESTION_RUN.finditer(raw)), default=0)
    mixed = max((len(m.group(0)) for m in _MIXED_RUN.finditer(raw)), default=0)
    run = max(bang, ask, mixed)
    if run >= 3:
        return ("!" if bang >= ask else "?") * 3, 0.15 if bang >= 3 or mixed >= 3 else 0.12
    if run == 2:
        return ("!" if bang else "?") * 2, 0.06
    return "", 0.0


def _repetition(text: str) -> tuple[str, float]:
    best, weight = "", 0.0
    for m in _REPEAT.finditer(text):
        unit = (m.group(1) or m.group(2) or "").rstrip("!?,.~")
        if not unit or unit in _FRIENDLY_REPEATS:
            continue
        # Only urging repeats (快点快点, 在吗在吗); 你好你好 and 可以可以 are just friendly.
        w = 0.2 if any(u in unit for u in _URGE_UNITS) else 0.0
        if w > weight:
            best, weight = unit, w
    return best, weight


def _emoji(raw: str, signals: dict[str, Any] | None, lex: Lexicon) -> list[str]:
    if signals and isinstance(signals.get("emoji"), list):
        return [str(e).replace("\ufe0f", "") for e in signals["emoji"]]
    return [ch for ch in raw if is_emoji(ch) and ord(ch) not in (0x200D, 0xFE0F, 0xFE0E)]


def score_text(text: str, raw: str | None = None, signals: dict[str, Any] | None = None,
               lexicon: Lexicon | None = None) -> Reading:
    """Score an already normalised message (``raw``: the text as typed, for emoji and punctuation)."""
    lex = lexicon or cached_lexicon()
    text = (text or "").lower()
    raw = raw if raw is not None else text
    plain = text
    gaps = _gaps(text, raw, signals)
    if gaps:  # 服了 每次问都说在处理: the shopper's spaces end clauses as commas do
        text = "".join(" " + ch if i in gaps else ch for i, ch in enumerate(plain))
    reading = Reading()
    hits = _scan(text, lex)
    for e in dict.fromkeys(_emoji(raw, signals, lex)):  # 👏 is ironic praise too
        for entry in lex.words.get(e, ()):
            if entry.category in ("ironic", "sarcasm"):
                hits.append(_Hit(len(text), len(text), entry, entry.weight))
    hearsay = bool(_HEARSAY.search(text)) and any(d in text for d in _DOUBT)

    for hit in hits:
        if hit.entry.category in ("abuse", "negative", "impatience", "threat", "safety", "praise", "ironic"):
            hit.negated = _is_negated(text, hit, lex) or (
                hearsay and hit.entry.category in _HEARSAY_CATEGORIES) or _would_not(text, hit)
        if not hit.negated and hit.entry.category in ("negative", "threat") and _is_review_question(text, hit):
            hit.negated = True
            reading.cues.append(f"question:{hit.entry.name}")
        if not hit.negated and _is_a_place(text, hit):
            hit.negated = True
            reading.cues.append(f"place:{hit.entry.name}")
    _mark_places(hits, reading)
    _mark_general_questions(text, hits, reading, lex)
    _mark_resolved(text, hits)
    _mark_joking(text, hits, reading)
    _mark_off_topic(text, hits, lex, reading)
    _mark_unconcerned_exposure(text, hits)
    _mark_joking_anger(text, raw, hits)
    hits.extend(_ultimatum_threats(text, hits, lex))

    thanks_shaped = _sincere_thanks(hits)
    complaint = any(
        not h.negated and h not in thanks_shaped and (h.entry.category in ("abuse", "negative", "threat", "sarcasm", "context")
                           or (h.entry.category == "impatience" and h.weight >= 0.1))
        for h in hits
    )
    failure = any(not h.negated and h.entry.category in ("abuse", "negative", "threat", "context")
                  for h in hits)
    # Another complaint besides the exasperation words themselves (服了 + 一个礼拜了); a cue on the
    # same characters (第二次 inside 这是第二次了) is the same words, not another complaint.
    exasperated = [(h.start, h.end) for h in hits if h.entry.tag == "exasperation" and not h.negated]
    other_complaint = bool(exasperated) and any(
        not h.negated and h.entry.tag != "exasperation"
        and not any(s < h.end and h.start < e for s, e in exasperated) and (
            h.entry.category in ("abuse", "negative", "threat", "sarcasm", "context")
            or (h.entry.category == "impatience" and h.weight >= 0.1))
        for h in hits)
    # Giving in (好吧 那你帮我看看) with nothing complaining besides the exasperation and the wait.
    resigned = bool(_RESIGNED.search(text)) and not any(
        not h.negated and h.entry.tag != "exasperation" and h.entry.category in ("abuse", "negative", "threat")
        for h in hits)
    evidence: list[_Hit] = []
    praise: list[str] = []
    for hit in hits:
        cat = hit.entry.category
        if hit.negated:
            if cat in ("praise", "ironic"):
                evidence.append(_Hit(hit.start, hit.end, Entry("negative", NEGATED_PRAISE_WEIGHT, "不" + hit.entry.name),
                                     NEGATED_PRAISE_WEIGHT))
            elif hit.dropped == "unconcerned":
                reading.cues.append(f"exposure:{hit.entry.name}")  # 孩子吃了 with nothing wrong
            elif cat != "context" and not {f"offtopic:{hit.entry.name}", f"question:{hit.entry.name}",
                                           f"place:{hit.entry.name}", f"joke:{hit.entry.name}"} & set(reading.cues):
                reading.cues.append(f"negated:{hit.entry.name}")
            continue
        if cat == "ironic":
            if complaint:
                evidence.append(_Hit(hit.start, hit.end, Entry("sarcasm", SARCASM_WEIGHT, hit.entry.name),
                                     SARCASM_WEIGHT))
            else:
                praise.append(hit.entry.name)
        elif cat == "praise":
            praise.append(hit.entry.name)
        elif cat == "safety":
            if _is_hypothetical(text, hit):
                continue
            evidence.append(hit)
        elif hit in thanks_shaped:
            praise.append(hit.entry.name)  # 我真的会谢 上次客服太有耐心了: thanks
        elif cat == "sarcasm" and failure and hit.weight < SARCASM_IN_FAILURE_WEIGHT:
            evidence.append(_Hit(hit.start, hit.end, hit.entry, SARCASM_IN_FAILURE_WEIGHT))
        elif cat in _ANGER_CATEGORIES:
            evidence.append(hit)

    evidence = _dedupe(evidence)
    weights: list[float] = []
    for hit in evidence:
        cat = hit.entry.category
        weight = hit.weight
        if hit.entry.tag == "exasperation" and resigned:
            weight = min(weight, 0.25)  # 无语 怎么还没发 好吧 那你帮我看看: giving in, not anger
        elif hit.entry.tag == "exasperation" and other_complaint and weight < EXASPERATION_IN_COMPLAINT:
            weight = EXASPERATION_IN_COMPLAINT
            reading.cues.append(f"exasperation:{hit.entry.name}")
        if cat in ("abuse", "negative", "impatience"):
            word, factor = _intensifier_before(text, hit, lex)
            if factor > 1.0:
                weight = min(weight * factor, 0.95)
                reading.cues.append(f"intensifier:{word}")
        if cat == "threat":
            reading.threat = True
        elif cat == "safety":
            reading.safety = True
        elif cat == "sarcasm":
            reading.sarcasm = True
        reading.cues.append(f"{cat}:{hit.entry.name}")
        weights.append(weight)

    mark, w = _punctuation_weight(raw)
    if w:
        reading.cues.append(f"punct:{mark}")
        weights.append(w)
    unit, w = _repetition(plain)
    if w:
        reading.cues.append(f"repeat:{unit}")
        weights.append(w)
    calming = 0.0
    seen: dict[str, int] = {}
    for e in _emoji(raw, signals, lex):
        seen[e] = seen.get(e, 0) + 1
    for e, count in seen.items():
        w = lex.emoji.get(e)
        if w is None:
            continue
        reading.cues.append(f"emoji:{e}")
        if w > 0:
            weights.append(min(w + 0.1 * min(count - 1, 2), 0.95))
        else:
            calming += -w

    survival = 1.0
    for w in weights:
        survival *= 1.0 - w
    score = 1.0 - survival
    if _polite_urging(text, evidence, reading.cues):
        score = min(score, POLITE_URGING_CAP)
    strong = any(h.entry.category in ("negative", "abuse") and h.weight >= COURTESY_AFTER_COMPLAINT
                 for h in evidence)
    if strong:  # 希望贵店给出合理解释。谢谢。: the thanks closes a complaint
        praise = [p for p in praise if p not in _COURTESY]
    if praise and not reading.sarcasm:
        reading.cues.extend(f"praise:{p}" for p in dict.fromkeys(praise))
        score *= PRAISE_DAMPING
    if calming and score:
        score *= max(0.5, 1.0 - calming)
    reading.score = round(min(max(score, 0.0), 1.0), 3)
    reading.label = _label(reading, evidence)
    reading.cues = list(dict.fromkeys(reading.cues))
    return reading


def _gaps(text: str, raw: str, signals: dict[str, Any] | None) -> set[int]:
    """Where the shopper's spaces or emoji separated two phrases (bot.textnorm.clause_gaps): from
    the normaliser's signals, or worked out again from the raw text when they are missing."""
    gaps = signals.get("clause_gaps") if signals else None
    if not isinstance(gaps, list):
        if raw == text or not any(ch.isspace() or is_emoji(ch) for ch in raw):
            return set()
        result = normalise(raw)
        if result.text.lower() != text:
            return set()
        gaps = clause_gaps(raw, result)
    return {g for g in gaps if isinstance(g, int) and 0 < g < len(text)}


def _sincere_thanks(hits: list[_Hit]) -> list[_Hit]:
    """我真的会谢 上次客服小姐姐太有耐心了: sarcasm markers shaped like thanks, in a message that
    praises (besides thanks) and has no failure, complaint or wait: they are thanks."""
    shaped = [h for h in hits if not h.negated and h.entry.category == "sarcasm" and _THANKS_SHAPED in h.entry.name]
    if not shaped:
        return []
    live = [h for h in hits if not h.negated]
    if not any(h.entry.category == "praise" and _THANKS_SHAPED not in h.entry.name for h in live):
        return []
    if any(h.entry.category in ("abuse", "negative", "threat", "context", "safety")
           or (h.entry.category == "sarcasm" and h not in shaped)
           or (h.entry.category == "impatience" and h.weight >= 0.1) for h in live):
        return []
    return shaped


def _mark_joking_anger(text: str, raw: str, hits: list[_Hit]) -> None:
    """气死我了 怎么现在才发现你们家 已经下单第二件了哈哈: anger words said laughing, with praise and no
    other complaint (no threat, failure word, wait or sarcasm), are a joke."""
    if not (_LAUGHING.search(text) or _LAUGHING.search(raw)):
        return
    live = [h for h in hits if not h.negated]
    if not any(h.entry.category == "praise" and h.entry.name not in _COURTESY for h in live):
        return
    praised = [(h.start, h.end) for h in live if h.entry.category == "praise"]
    # 才发 in 才发现你们, 第三次了 in 回购第三次了: words of the praise, not complaints.
    inside = [h for h in live if h.entry.category != "praise" and any(s < h.end and h.start < e for s, e in praised)]
    live = [h for h in live if h not in inside]
    anger = [h for h in live if h.entry.category in ("negative", "abuse")]
    if not anger or any(h.entry.category in ("threat", "context", "sarcasm", "ironic", "safety")
                        or (h.entry.category == "impatience" and h.weight >= 0.1) for h in live):
        return
    for hit in anger + inside:
        hit.negated = True


def _mark_unconcerned_exposure(text: str, hits: list[_Hit]) -> None:
    """孩子吃了 alone is no incident (孩子吃了说好吃): it counts with a hazard or symptom cue, or
    a worry about harm (有没有毒, 会不会有事, 医院), anywhere in the message."""
    exposures = [h for h in hits if h.entry.category == "safety" and h.entry.tag == "exposure" and not h.negated]
    if not exposures:
        return
    others = any(h.entry.category == "safety" and h.entry.tag != "exposure" and not h.negated
                 and not _is_hypothetical(text, h) for h in hits)
    if others or _EXPOSURE_CONCERN.search(text):
        return
    for hit in exposures:
        hit.negated = True
        hit.dropped = "unconcerned"


def _ultimatum_threats(text: str, hits: list[_Hit], lex: Lexicon) -> list[_Hit]:
    """看着办 / 最好给我个解释 with a lever in the message (粉丝, 律师, 差评写好了): a threat."""
    if lex.lever_regex is None:
        return []
    ultimatums = [h for h in hits if h.entry.tag == "ultimatum" and not h.negated]
    if not ultimatums:
        return []
    lever = lex.lever_regex.search(text)
    if lever is None:
        return []
    first = ultimatums[0]
    name = f"{first.entry.name}+{lever.group(0)}"
    return [_Hit(first.start, first.end, Entry("threat", ULTIMATUM_THREAT_WEIGHT, name), ULTIMATUM_THREAT_WEIGHT)]


def _polite_urging(text: str, evidence: list[_Hit], cues: list[str]) -> bool:
    """Only urging words (赶紧, 快点, 急急急), punctuation and a friendly word (亲, 哈, 呀, 吧):
    mild impatience however many of them, not anger. A wait (都三天了) or an emoji is more."""
    if not evidence or not _POLITE.search(text):
        return False
    if any(h.entry.category != "impatience" or h.entry.name not in _URGING_CUES for h in evidence):
        return False
    return not any(c.startswith("emoji:") for c in cues)


def _label(reading: Reading, evidence: list[_Hit]) -> str:
    cats = {h.entry.category for h in evidence}
    upset = bool(cats & {"abuse", "negative", "threat", "sarcasm", "safety"})
    if reading.score >= ANGRY_AT:
        return "angry"
    if reading.score >= FRUSTRATED_AT or (upset and reading.score >= NEGATIVE_FRUSTRATED_AT):
        return "frustrated"
    if reading.score > 0 and (upset or any(c.startswith(("impatience:", "punct:", "repeat:", "emoji:"))
                                           for c in reading.cues)):
        return "impatient"
    return "calm"


def score_message(raw: str, lexicon: Lexicon | None = None) -> Reading:
    """Normalise ``raw`` as the pipeline does, then score it (tests, tools, fallbacks)."""
    result = normalise(raw or "")
    return score_text(result.text, raw, {"emoji": result.emoji, "clause_gaps": clause_gaps(raw or "", result)}, lexicon)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmotionScorer(GraphComponent):
    """Adds ``emotion`` to every parsed message; place it last in the pipeline.

    Config: ``lexicon_dir`` (default data/emotion of this project). The word
    lists are read when the server starts, not stored in the model, so a
    trainer's additions take effect on restart without retraining.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"lexicon_dir": None}

    def __init__(self, config: dict[str, Any]) -> None:
        self._lexicon = cached_lexicon(config.get("lexicon_dir"))

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "EmotionScorer":
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            raw = message.get(RAW_TEXT)
            if isinstance(raw, str):
                reading = score_text(text, raw, message.get("text_signals"), self._lexicon)
            else:  # no normaliser before us: do it here
                reading = score_message(text, self._lexicon)
            message.set(EMOTION, reading.as_dict(), add_to_output=True)
        return messages
