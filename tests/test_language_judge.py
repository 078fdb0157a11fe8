"""The language-consistency judge, with real lingua models (no mocks)."""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.judges.base import Action, ExchangeContext, Verdict, Where
from gateway.judges.language import (
    CATEGORY,
    LanguageJudge,
    build_detector,
    language_consistency,
)
from gateway.policy import Policy
from gateway.settings import LanguageJudgeSettings, PolicyRule, PolicySettings
from tests.servers import DATA

MULTIJAIL = DATA / "multijail.csv"

EN_REQUEST = "Can you explain how photosynthesis works in plants?"
EN_ANSWER = ("Photosynthesis is the process plants use to turn sunlight, water and carbon dioxide "
             "into sugar and oxygen. It happens mostly in the leaves, inside small structures "
             "called chloroplasts. The sugar feeds the plant, and the oxygen is released into "
             "the air. Without it, there would be almost no food and no oxygen for animals.")
ZH_ANSWER = ("光合作用是植物利用阳光、水和二氧化碳制造糖和氧气的过程。"
             "它主要发生在叶子里的叶绿体中。糖为植物提供能量，氧气则被释放到空气中。")
ZH_SENTENCE = "糖为植物提供能量，氧气则被释放到空气中。"
IT_SENTENCE = ("Lo zucchero nutre la pianta, mentre l'ossigeno viene rilasciato nell'aria "
               "attraverso piccoli pori delle foglie.")

# A request and a plain answer in the same language, per language.
SAME_LANGUAGE = {
    "zh": ("光合作用是怎么回事？请简单解释一下。", ZH_ANSWER),
    "it": ("Puoi spiegarmi come funziona la fotosintesi nelle piante?",
           "La fotosintesi è il processo con cui le piante trasformano la luce del sole, l'acqua "
           "e l'anidride carbonica in zucchero e ossigeno. Avviene soprattutto nelle foglie, "
           "dentro piccole strutture chiamate cloroplasti."),
    "vi": ("Bạn có thể giải thích quá trình quang hợp ở thực vật không?",
           "Quang hợp là quá trình cây xanh dùng ánh sáng mặt trời, nước và khí cacbonic để tạo "
           "ra đường và khí oxy. Quá trình này diễn ra chủ yếu trong lá cây."),
    "ar": ("هل يمكنك أن تشرح لي كيف تحدث عملية التمثيل الضوئي في النباتات؟",
           "التمثيل الضوئي هو العملية التي تستخدم فيها النباتات ضوء الشمس والماء وثاني أكسيد "
           "الكربون لصنع السكر والأكسجين. تحدث هذه العملية غالبا في أوراق النبات."),
    "ko": ("식물의 광합성이 어떻게 일어나는지 설명해 주시겠어요?",
           "광합성은 식물이 햇빛과 물, 이산화탄소를 이용해 당과 산소를 만드는 과정입니다. "
           "이 과정은 주로 잎의 엽록체에서 일어납니다."),
}


@pytest.fixture(scope="module")
def judge() -> LanguageJudge:
    return LanguageJudge(LanguageJudgeSettings(enabled=True))


def ctx(request: str, tenant: str = "t") -> ExchangeContext:
    return ExchangeContext(tenant=tenant, model_alias="m", request_text=request)


def one(verdicts: list[Verdict]) -> Verdict:
    assert len(verdicts) == 1, verdicts
    verdict = verdicts[0]
    assert verdict.judge == "language" and verdict.category == CATEGORY == "language_mix"
    return verdict


def test_english_answer_to_english_request_is_consistent(judge: LanguageJudge) -> None:
    verdict = one(judge.judge(EN_ANSWER, Where.OUTPUT, ctx(EN_REQUEST)))
    assert verdict.score <= 0.02
    assert verdict.where is Where.OUTPUT
    assert verdict.detail == "expected=en consistency=1.00"
    assert judge.expected_language(ctx(EN_REQUEST)) == "en"


def test_chinese_answer_to_english_request_scores_high(judge: LanguageJudge) -> None:
    verdict = one(judge.judge(ZH_ANSWER, Where.OUTPUT, ctx(EN_REQUEST)))
    assert verdict.score >= 0.95
    assert verdict.detail is not None and verdict.detail.startswith("expected=en ")


def test_chinese_sentence_inside_english_answer_is_flagged(judge: LanguageJudge) -> None:
    sentences = EN_ANSWER.split(". ")
    mixed = ". ".join(sentences[:2]) + ". " + ZH_SENTENCE + " " + ". ".join(sentences[2:])
    verdict = one(judge.judge(mixed, Where.OUTPUT, ctx(EN_REQUEST)))
    assert 0.2 < verdict.score < 0.7
    policy = Policy(PolicySettings(rules={
        CATEGORY: PolicyRule(action=Action.FLAG, threshold=0.2)}))
    assert policy.decide([verdict]).action is Action.FLAG
    # The clean answer stays below the same threshold.
    clean = one(judge.judge(EN_ANSWER, Where.OUTPUT, ctx(EN_REQUEST)))
    assert policy.decide([clean]).action is Action.ALLOW


def test_italian_sentence_inside_english_answer_is_counted(judge: LanguageJudge) -> None:
    # Same script: lingua, not the script table, must find it.
    sentences = EN_ANSWER.split(". ")
    mixed = ". ".join(sentences[:2]) + ". " + IT_SENTENCE + " " + ". ".join(sentences[2:])
    verdict = one(judge.judge(mixed, Where.OUTPUT, ctx(EN_REQUEST)))
    assert 0.15 < verdict.score < 0.6


def test_chinese_reasoning_behind_english_answer(judge: LanguageJudge) -> None:
    reasoning = ("用户问的是光合作用。我应该先解释光合作用的原料，也就是阳光、水和二氧化碳，"
                 "然后说明产物是糖和氧气，最后提到叶绿体。")
    context = ctx(EN_REQUEST)
    thought = one(judge.judge(reasoning, Where.REASONING, context))
    answer = one(judge.judge(EN_ANSWER, Where.OUTPUT, context))
    assert thought.where is Where.REASONING and thought.score >= 0.95
    assert answer.where is Where.OUTPUT and answer.score <= 0.02


def test_tenant_language_overrides_the_request() -> None:
    judge = LanguageJudge(LanguageJudgeSettings(
        enabled=True, languages=["en", "zh", "de"], tenant_languages={"acme": "it"}))
    assert "it" in judge.languages  # a tenant's language is added to the detector's
    context = ctx(EN_REQUEST, tenant="acme")
    assert judge.expected_language(context) == "it"
    assert judge.expected_language(ctx(EN_REQUEST, tenant="other")) == "en"
    italian = SAME_LANGUAGE["it"][1]
    assert one(judge.judge(italian, Where.OUTPUT, context)).score <= 0.05
    assert one(judge.judge(EN_ANSWER, Where.OUTPUT, context)).score >= 0.9
    assert one(judge.judge(EN_ANSWER, Where.OUTPUT, ctx(EN_REQUEST, "other"))).score <= 0.02


@pytest.mark.parametrize("lang", sorted(SAME_LANGUAGE))
def test_answer_in_the_language_of_the_request(judge: LanguageJudge, lang: str) -> None:
    request, answer = SAME_LANGUAGE[lang]
    context = ctx(request)
    assert judge.expected_language(context) == lang
    verdict = one(judge.judge(answer, Where.OUTPUT, context))
    assert verdict.score <= 0.05, verdict.detail
    # ... and an English answer to it is not.
    assert one(judge.judge(EN_ANSWER, Where.OUTPUT, context)).score >= 0.9


def test_text_below_min_words_gets_no_verdict(judge: LanguageJudge) -> None:
    assert judge.min_words == 4
    assert judge.judge("Sure, here it", Where.OUTPUT, ctx(EN_REQUEST)) == []
    assert judge.judge("好的。", Where.OUTPUT, ctx(EN_REQUEST)) == []  # two Han characters
    assert judge.judge("", Where.OUTPUT, ctx(EN_REQUEST)) == []
    assert one(judge.judge("Sure, here it is.", Where.OUTPUT, ctx(EN_REQUEST))).score == 0.0


def test_parts_outside_apply_to_and_unknown_language_get_no_verdict(
        judge: LanguageJudge) -> None:
    assert judge.judge(EN_ANSWER, Where.INPUT, ctx(EN_REQUEST)) == []
    # "ok" could be any of several Latin-script languages: no expected language, no verdict.
    assert judge.expected_language(ctx("ok")) is None
    assert judge.judge(EN_ANSWER, Where.OUTPUT, ctx("ok")) == []
    assert judge.judge(EN_ANSWER, Where.OUTPUT, ctx("")) == []
    # A script of one language is enough, however short.
    assert judge.expected_language(ctx("你好")) == "zh"


def test_ambiguous_request_accepts_any_plausible_language(judge: LanguageJudge) -> None:
    request = "Ciao, come stai?"  # three words: Italian, but also good Portuguese trigrams
    plausible = judge.detect(request)
    assert "it" in plausible and len(plausible) > 1
    verdict = one(judge.judge(SAME_LANGUAGE["it"][1], Where.OUTPUT, ctx(request)))
    assert verdict.score <= 0.05 and verdict.detail == "expected=it consistency=1.00"
    # A script none of them uses is still foreign.
    assert one(judge.judge(ZH_ANSWER, Where.OUTPUT, ctx(request))).score >= 0.95


def test_judge_is_safe_to_share_between_threads(judge: LanguageJudge) -> None:
    cases = [(EN_ANSWER, EN_REQUEST), (ZH_ANSWER, EN_REQUEST)] + [
        (answer, request) for request, answer in SAME_LANGUAGE.values()]
    serial = [judge.judge(a, Where.OUTPUT, ctx(r)) for a, r in cases]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda c: judge.judge(c[0], Where.OUTPUT, ctx(c[1])),
                                 cases * 8))
    assert parallel == serial * 8


def test_numbers_code_and_urls_are_not_counted(judge: LanguageJudge) -> None:
    prose = "To install it, run and then call in your script. The docs are at and the source."
    with_code = ("To install it, run `pip install numpy==1.26` and then call "
                 "numpy.array([1, 2, 3]) in your script. The docs are at "
                 "https://numpy.org/doc/stable/ and the source 2.0 src/numpy/core x86_64 "
                 "MAX_THREADS=4 getElementById API GPUs 3.14 2024.\n"
                 "```python\nfor item in items:\n    print(item.name)\n```")
    assert judge.share(with_code, "en") == judge.share(prose, "en")
    assert judge.consistency(with_code, "en") == 1.0

    zh = ("你可以运行 `pip install numpy` 来安装，文档在 https://numpy.org/doc/ 上，"
          "版本 2.0 于 2024 年发布。设 x 为正数，则 x 的平方大于零，调用 numpy.sqrt 即可。")
    zh_prose = "你可以运行来安装，文档在上，版本于年发布。设为正数，则的平方大于零，调用即可。"
    assert judge.share(zh, "zh") == judge.share(zh_prose, "zh")
    assert judge.consistency(zh, "zh") == 1.0
    # ... but real English words in a Chinese answer are not Chinese.
    mixed = judge.consistency("光合作用需要阳光。 Plants also need water and carbon dioxide.", "zh")
    assert mixed is not None and 0.2 < mixed < 0.8


def test_consistency_is_a_reward(judge: LanguageJudge) -> None:
    assert judge.consistency(EN_ANSWER, "en") == 1.0
    assert judge.consistency(ZH_ANSWER, "en") == 0.0
    assert judge.consistency(ZH_ANSWER, "zh") == 1.0
    assert judge.consistency("123 + 456 = 579", "en") is None  # no words
    # Several plausible languages: the best of them.
    assert judge.consistency(ZH_ANSWER, ["en", "zh"]) == 1.0
    with pytest.raises(ValueError):
        judge.consistency(EN_ANSWER, "xx")
    # The plain function, with any detector that knows the languages.
    detector = build_detector(["en", "it", "zh"])
    assert language_consistency(EN_ANSWER, "en", detector) == 1.0
    assert language_consistency(SAME_LANGUAGE["it"][1], "en", detector) == 0.0
    screen = build_detector(["en", "it", "zh"], low_accuracy=True)
    assert language_consistency(EN_ANSWER, "en", detector, screen=screen) == 1.0


def test_stream_judges_a_sliding_window(judge: LanguageJudge) -> None:
    context = ctx(EN_REQUEST)
    state = judge.start_stream(Where.OUTPUT)
    english = " ".join([EN_ANSWER] * 3)
    text = english + " " + ZH_ANSWER * 8
    scores: list[tuple[int, float]] = []
    for i in range(0, len(text), 7):
        scores += [(i, v.score) for v in judge.feed(state, text[i:i + 7], context)]
    assert state.text == text
    assert len(scores) > 100
    assert max(s for i, s in scores if i < len(english)) <= 0.02  # the window holds English
    assert scores[-1][1] >= 0.95  # the window now holds only the Chinese tail
    # The whole reply is about three quarters Chinese.
    whole = one(judge.judge(text, Where.OUTPUT, context)).score
    assert 0.5 < whole < 0.9


def test_stream_window_inside_a_code_block_is_not_prose(judge: LanguageJudge) -> None:
    context = ctx("请给我写一个排序函数，并解释它是怎么工作的。")
    code = "".join(f"    result_{i} = sorted(items, key=lambda item: item.score)\n"
                   for i in range(20))
    text = ("下面是一个简单的排序函数，它按照分数从低到高排列所有元素。\n```python\n" + code
            + "```\n这个函数使用了内置的排序方法，所以速度很快，也很容易理解。")
    state = judge.start_stream(Where.OUTPUT)
    scores = []
    for i in range(0, len(text), 5):
        scores += [v.score for v in judge.feed(state, text[i:i + 5], context)]
    assert scores and max(scores) <= 0.05


def test_request_language_on_multijail(judge: LanguageJudge) -> None:
    # The texts are harmful prompts: count, never print.
    with MULTIJAIL.open(encoding="utf-8-sig", newline="") as f:
        rows = [row for _, row in zip(range(50), csv.DictReader(f), strict=False)]
    assert len(rows) == 50
    for lang in ("en", "zh", "it", "vi", "ar", "ko"):
        right = sum(judge.expected_language(ctx(row[lang])) == lang for row in rows)
        assert right >= 45, f"{lang}: {right}/50 detected"
