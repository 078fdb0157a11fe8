"""The language-consistency judge: is the reply (and its reasoning) in the language of the request?

This is DeepSeek-R1's language-consistency reward: the share of a text's words that are in the
target language. The gateway reports ``1 - share`` as the ``language_mix`` score of the output
and of the reasoning trace; the trainer reuses :meth:`LanguageJudge.consistency` (or the plain
:func:`language_consistency`) as an RL reward.

How a text is split into words and who decides their language, cheapest first:

* Code and other non-language tokens are dropped before counting: fenced and inline code,
  URLs, e-mail addresses, paths, identifiers (``snake_case``, ``camelCase``, ``a.b.c``), all-caps
  acronyms (``API``, ``GPU``), LaTeX commands, HTML tags, numbers and punctuation, and single
  Latin or Greek letters (math variables such as ``x``; the few one-letter words lost, like
  "a" and "I", do not move the share). They count neither for nor against.
* The remaining letters are split into runs of one script. A word is a run, except in scripts
  written without spaces: each Han character is one word (a Chinese word is one or two
  characters, and a character is the unit a tokenizer and a reader see), kana count one word
  per two characters, and Thai, Lao, Khmer and Myanmar one word per four characters (about the
  average word length there), so a foreign sentence weighs roughly what it reads like.
* A word whose script the expected language does not use is foreign, decided by a table lookup
  and no model: Han characters inside an English answer, Latin words inside a Chinese one.
  Japanese is told from Chinese by kana: the Han characters of a sentence with kana are
  Japanese. A kana-free Han sentence counts as either (Japanese written in kanji only is not
  told from Chinese).
* Only where a script is shared by several configured languages (Latin, Cyrillic, Arabic,
  Devanagari) does lingua decide, one sentence at a time (a sentence of fewer than four words
  is merged with the next, since lingua guesses on a word or two): an Italian sentence inside
  an English answer is foreign. A low-accuracy detector screens each sentence and passes the
  ones it is sure are in the expected language (most of them, at a third of the cost); the
  rest go to the accurate detector, which must prefer another language by
  :data:`FOREIGN_MARGIN` to call a sentence foreign.

The expected language is the tenant's, if configured, else the request's, found by the accurate
detector: low accuracy mistakes 3% of short English requests for another language, and a
wrong expected language makes a whole correct reply "foreign". A request that may be in
several languages (within :data:`PLAUSIBLE` of the likeliest) accepts a reply in any of them;
one with fewer than three words in a shared script ("ok", "Hi") has no expected language and
gets no verdict.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from gateway.judges.base import ExchangeContext, Judge, StreamJudgeState, Verdict, Where
from gateway.judges.categories import Category
from gateway.settings import LanguageJudgeSettings

__all__ = [
    "CATEGORY",
    "FOREIGN_MARGIN",
    "PLAUSIBLE",
    "SCREEN_SURE",
    "LanguageJudge",
    "LanguageShare",
    "build_detector",
    "language_consistency",
    "language_share",
]

CATEGORY = Category.LANGUAGE_MIX

#: A same-script sentence is foreign only when lingua's confidence in its likeliest language
#: beats its confidence in the expected one by at least this much: on a handful of words the
#: values spread over several languages, and there the expected language should win.
FOREIGN_MARGIN = 0.2

#: The low-accuracy screen passes a sentence as expected when it gives the expected language
#: at least this confidence (it is near-certain, 1.0 against 0.0, on most real sentences);
#: anything else goes to the accurate detector.
SCREEN_SURE = 0.9

#: A request's plausible languages: those with at least this share of the likeliest one's
#: confidence ("Ciao, come stai?" may be Italian or Portuguese).
PLAUSIBLE = 0.5

# A request with fewer words than this in a script several languages share is not
# assigned a language.
_MIN_REQUEST_WORDS = 3

# Sentences with fewer same-script words than this are merged with their neighbours before
# lingua sees them: "Yes." or "Sure!" alone is a guess in any language.
_MIN_CHUNK_WORDS = 4

# The request text lingua reads to find the expected language: enough for any language.
_REQUEST_CHARS = 2000

# --------------------------------------------------------------------------------------------
# Scripts

# Blocks per script. Only the letters and marks in them count, so digits and punctuation that
# live in a block (Arabic comma, Devanagari danda, Thai digits) are not words.
_BLOCKS: dict[str, tuple[tuple[int, int], ...]] = {
    "latin": ((0x41, 0x5A), (0x61, 0x7A), (0xAA, 0xAA), (0xBA, 0xBA), (0xC0, 0x24F),
              (0x250, 0x2AF), (0x1D00, 0x1D7F), (0x1E00, 0x1EFF), (0x2C60, 0x2C7F),
              (0xA720, 0xA7FF), (0xAB30, 0xAB6F), (0xFB00, 0xFB06), (0xFF21, 0xFF3A),
              (0xFF41, 0xFF5A)),
    "greek": ((0x370, 0x3FF), (0x1F00, 0x1FFF)),
    "cyrillic": ((0x400, 0x52F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F)),
    "armenian": ((0x531, 0x58F), (0xFB13, 0xFB17)),
    "hebrew": ((0x591, 0x5F4), (0xFB1D, 0xFB4F)),
    "arabic": ((0x600, 0x6FF), (0x750, 0x77F), (0x870, 0x8FF), (0xFB50, 0xFDFF),
               (0xFE70, 0xFEFF)),
    "devanagari": ((0x900, 0x97F), (0xA8E0, 0xA8FF)),
    "bengali": ((0x980, 0x9FF),),
    "gurmukhi": ((0xA00, 0xA7F),),
    "gujarati": ((0xA80, 0xAFF),),
    "tamil": ((0xB80, 0xBFF),),
    "telugu": ((0xC00, 0xC7F),),
    "thai": ((0xE00, 0xE7F),),
    "lao": ((0xE80, 0xEFF),),
    "myanmar": ((0x1000, 0x109F),),
    "georgian": ((0x10A0, 0x10FF), (0x1C90, 0x1CBF)),
    "hangul": ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7AF),
               (0xD7B0, 0xD7FF), (0xFFA0, 0xFFDC)),
    "khmer": ((0x1780, 0x17FF), (0x19E0, 0x19FF)),
    "kana": ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F), (0x1B000, 0x1B16F)),
    "han": ((0x3005, 0x3005), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
            (0x20000, 0x323AF)),
    # Combining marks that take the script of the letter before them.
    "inherited": ((0x300, 0x36F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF),
                  (0xFE20, 0xFE2F)),
}
# Han and Hangul syllables are letters throughout; scanning them would only slow the import.
_ALL_LETTERS = {"han", "hangul"}

#: Scripts written without spaces, and how many characters make one counted word.
_CHARS_PER_WORD = {"han": 1, "kana": 2, "thai": 4, "lao": 4, "khmer": 4, "myanmar": 4}

# Scripts of the languages lingua knows that are not written in Latin letters.
_SCRIPTS_OF: dict[str, frozenset[str]] = {
    **dict.fromkeys(("ar", "fa", "ur"), frozenset({"arabic"})),
    **dict.fromkeys(("be", "bg", "kk", "mk", "mn", "ru", "sr", "uk"), frozenset({"cyrillic"})),
    **dict.fromkeys(("hi", "mr"), frozenset({"devanagari"})),
    "bn": frozenset({"bengali"}), "el": frozenset({"greek"}), "gu": frozenset({"gujarati"}),
    "he": frozenset({"hebrew"}), "hy": frozenset({"armenian"}), "ka": frozenset({"georgian"}),
    "ko": frozenset({"hangul"}), "pa": frozenset({"gurmukhi"}), "ta": frozenset({"tamil"}),
    "te": frozenset({"telugu"}), "th": frozenset({"thai"}),
    "zh": frozenset({"han"}), "ja": frozenset({"han", "kana"}),
}
_LATIN_ONLY = frozenset({"latin"})

# Single letters of these scripts are not counted (math variables, not words).
_SINGLE_LETTER_IGNORED = {"latin", "greek"}


def _scripts_of(code: str) -> frozenset[str]:
    return _SCRIPTS_OF.get(code, _LATIN_ONLY)


def _shared_scripts(codes: Iterable[str]) -> frozenset[str]:
    """Scripts used by more than one of ``codes``: only there must lingua tell languages
    apart. Han never needs it (see the module docstring)."""
    seen: set[str] = set()
    shared: set[str] = set()
    for code in set(codes):
        for script in _scripts_of(code):
            (shared if script in seen else seen).add(script)
    return frozenset(shared - {"han"})


#: Shared scripts among all languages lingua knows: what a caller with a detector of unknown
#: languages gets.
_SHARED_BY_ALL = _shared_scripts(lang.iso_code_639_1.name.lower() for lang in Language.all())


def _build_tables() -> tuple[list[int], list[tuple[int, str]], str, str]:
    """Range table (for bisect) of the letters and marks of each script; a regex class of all
    combining marks (Python's ``\\w`` excludes them, so words would split at every Thai vowel
    sign or Devanagari matra); and one of Latin letters with their combining marks."""
    ranges: list[tuple[int, int, str]] = []
    marks: list[tuple[int, int]] = []
    for script, blocks in _BLOCKS.items():
        for lo, hi in blocks:
            if script in _ALL_LETTERS:
                ranges.append((lo, hi, script))
                continue
            start = None
            for cp in range(lo, hi + 2):
                cat = unicodedata.category(chr(cp)) if cp <= hi else ""
                if cat[:1] in ("L", "M"):
                    if start is None:
                        start = cp
                    if cat[:1] == "M":
                        marks.append((cp, cp))
                elif start is not None:
                    ranges.append((start, cp - 1, script))
                    start = None
    ranges.sort()
    starts = [lo for lo, _, _ in ranges]
    ends = [(hi, script) for _, hi, script in ranges]
    latin = [(lo, hi) for lo, hi, script in ranges if script in ("latin", "inherited")]
    return starts, ends, _char_class(marks), _char_class(latin)


def _char_class(ranges: list[tuple[int, int]]) -> str:
    return "".join(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}"
                   for lo, hi in ranges)


_STARTS, _ENDS, _MARKS, _LATIN = _build_tables()
_SCRIPT_CACHE: dict[str, str] = {}


def _script(ch: str) -> str:
    script = _SCRIPT_CACHE.get(ch)
    if script is None:
        cp = ord(ch)
        i = bisect.bisect_right(_STARTS, cp) - 1
        script = _ENDS[i][1] if i >= 0 and cp <= _ENDS[i][0] else "other"
        if len(_SCRIPT_CACHE) < 65536:  # bounded: a flood of rare characters costs no memory
            _SCRIPT_CACHE[ch] = script
    return script


# --------------------------------------------------------------------------------------------
# Text -> words

# Runs of letters and marks (any script); digits and the underscore are not letters.
_LETTER_RUN = re.compile(f"(?:[^\\W\\d_]|[{_MARKS}])+")
_LATIN_LETTERS = re.compile(f"[{_LATIN}]+")

# A Latin word, unless it touches what marks code rather than prose: digits or "_" (x86_64,
# snake_case), a path or URL separator, @ # $ = < > { } ^ ~ & % +, a dot with more name
# after it (numpy.array, e.g.), or :: and -> (C++, PHP). One regex, because Latin words are
# most words and a Python loop per word would double the judge's cost.
_CODE_NEAR = r"0-9_/\\@#$=<>{}^~&%+"
_LATIN_WORD = re.compile(
    f"(?<![{_LATIN}{_CODE_NEAR}])(?<![{_LATIN}0-9]\\.)(?<!::)(?<!->)"
    f"[{_LATIN}]+"
    f"(?![{_LATIN}{_CODE_NEAR}])(?!\\.[{_LATIN}0-9])(?!::|->)")

_NOT_LANGUAGE = re.compile("|".join((
    r"```.*?(?:```|\Z)",  # fenced code; an unclosed fence (a stream) runs to the end
    r"`[^`\n]*`",  # inline code
    r"</?[A-Za-z][^>\n]*>",  # HTML/XML tags
    r"\\[A-Za-z]+",  # LaTeX commands
)), re.DOTALL)
_URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+")

# Sentence ends: CJK full-width end punctuation; Latin, Arabic and Devanagari ones before a
# space or another script (not the dot of 3.14 or numpy.array); line breaks.
_SENTENCE_END = re.compile(r"[\u3002\uff01\uff1f\uff1b\uff1a]+"
                           r"|[.!?;:\u061f\u061b\u06d4\u0964\u0965]+(?=\s|$|[^\x00-\x7f])|\n+")


@dataclass(frozen=True, slots=True)
class _Sentence:
    # counted words per script
    counts: dict[str, int]
    # the words lingua may read, per script (single letters included: "e", "a" and "y" are
    # words lingua learns from even though they are not counted)
    words: dict[str, list[str]]


def _clean(text: str) -> str:
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = _NOT_LANGUAGE.sub(" ", text)
    if "://" in text or "www." in text:
        text = _URL.sub(" ", text)
    return text


def _split_runs(run: str) -> Iterator[tuple[str, str]]:
    """Split a run of letters into single-script pieces."""
    current, start = "", 0
    for i, ch in enumerate(run):
        script = _script(ch)
        if script == "inherited" or script == current:
            continue
        if current:
            yield current, run[start:i]
        current, start = script, i
    if current:
        yield current, run[start:]


def _sentence(piece: str) -> _Sentence | None:
    counts: dict[str, int] = {}
    words: dict[str, list[str]] = {}
    # Latin: all-lowercase or capitalised words only; ALL-CAPS (API, GPUs) and mixed case
    # (camelCase, iPhone, JavaScript) are names and acronyms, not words of one language.
    latin = [w for w in _LATIN_WORD.findall(piece) if w.islower() or w.istitle()]
    if latin:
        words["latin"] = latin
        counts["latin"] = sum(len(w) > 1 for w in latin)
    if not piece.isascii():
        for match in _LETTER_RUN.finditer(piece):
            run = match.group()
            if run.isascii():
                continue
            for script, part in _split_runs(run):
                if script == "latin":
                    continue  # counted above
                per = _CHARS_PER_WORD.get(script)
                if per is not None:
                    n = len(part) if per == 1 else -(-len(part) // per)
                elif len(part) == 1 and script in _SINGLE_LETTER_IGNORED:
                    n = 0
                else:
                    n = 1
                words.setdefault(script, []).append(part)
                counts[script] = counts.get(script, 0) + n
        if "han" in counts and "kana" in counts:
            # Han characters of a sentence with kana are Japanese kanji.
            counts["kana"] += counts.pop("han")
    return _Sentence(counts, words) if any(counts.values()) else None


def _sentences(text: str) -> Iterator[_Sentence]:
    for piece in _SENTENCE_END.split(_clean(text)):
        sentence = _sentence(piece)
        if sentence is not None:
            yield sentence


# --------------------------------------------------------------------------------------------
# Scoring


@dataclass(frozen=True, slots=True)
class LanguageShare:
    """How many of a text's counted words are in the expected language."""

    expected: int
    total: int

    @property
    def consistency(self) -> float | None:
        """R1's language-consistency reward: the expected share, or ``None`` for no words."""
        return self.expected / self.total if self.total else None


@lru_cache(maxsize=128)
def _lingua_language(code: str) -> Language:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code))
    except ValueError:
        raise ValueError(f"lingua does not know the language {code!r}") from None


def _code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


def _is_expected(words: list[str], expected: Language, detector: LanguageDetector,
                 screen: LanguageDetector | None,
                 cache: MutableMapping[str, bool] | None) -> bool:
    """Is this run of same-script words in the expected language? The cheap screen may only
    say yes, and only when it is sure; everything else is for the accurate detector, which
    must clearly prefer another language to say no."""
    text = " ".join(words)
    key = f"{expected.iso_code_639_1.name}:{text}"  # one cache may serve several languages
    if cache is not None and (hit := cache.get(key)) is not None:
        return hit
    verdict = None
    if screen is not None:
        values = screen.compute_language_confidence_values(text)
        if values and values[0].language == expected and values[0].value >= SCREEN_SURE:
            verdict = True
    if verdict is None:
        values = detector.compute_language_confidence_values(text)
        if not values or values[0].language == expected:
            verdict = True
        else:
            mine = next((v.value for v in values if v.language == expected), 0.0)
            verdict = values[0].value - mine < FOREIGN_MARGIN
    if cache is not None:
        if len(cache) >= 256:  # a stream's window holds a few sentences; stay bounded
            cache.clear()
        cache[key] = verdict
    return verdict


def language_share(text: str, expected: str, detector: LanguageDetector, *,
                   screen: LanguageDetector | None = None,
                   shared_scripts: frozenset[str] | None = None,
                   cache: MutableMapping[str, bool] | None = None) -> LanguageShare:
    """Count the words of ``text`` in language ``expected`` (ISO 639-1), and all counted words.

    ``detector`` decides the language of same-script sentences; it must know ``expected`` and
    the languages to tell it from (an accurate, not low-accuracy, detector: see
    :func:`build_detector`). ``screen``, a low-accuracy detector, lets most sentences through
    at a third of the cost. ``shared_scripts`` are the scripts in which languages must be told
    apart (default: those shared by any two languages lingua knows). ``cache`` remembers
    decisions per sentence between calls on overlapping text (a stream).
    """
    mine = _scripts_of(expected)
    ask = mine & (_SHARED_BY_ALL if shared_scripts is None else shared_scripts)
    target = _lingua_language(expected)
    total = in_expected = 0
    pending: dict[str, tuple[list[str], int]] = {}  # script -> short sentences' words, count

    for sentence in _sentences(text):
        for script, n in sentence.counts.items():
            total += n
            if script in mine and script not in ask:
                in_expected += n
        for script in ask:
            n = sentence.counts.get(script, 0)
            if not n:
                continue
            words, count = pending.pop(script, ([], 0))
            words, count = words + sentence.words[script], count + n
            if count < _MIN_CHUNK_WORDS:
                pending[script] = (words, count)  # merge with the next sentence
            elif _is_expected(words, target, detector, screen, cache):
                in_expected += count
    for words, count in pending.values():  # a short tail is judged on its own
        if _is_expected(words, target, detector, screen, cache):
            in_expected += count
    return LanguageShare(in_expected, total)


def language_consistency(text: str, expected: str, detector: LanguageDetector, *,
                         screen: LanguageDetector | None = None) -> float | None:
    """DeepSeek-R1's language-consistency reward: the share of the words of ``text`` that are
    in language ``expected`` (ISO 639-1), in [0, 1]; ``None`` when ``text`` has no words.

    ``detector`` and the optional ``screen`` are as in :func:`language_share`. Safe to call
    from several threads with the same detectors.
    """
    return language_share(text, expected, detector, screen=screen).consistency


def build_detector(languages: Iterable[str], *, low_accuracy: bool = False,
                   preload: bool = True) -> LanguageDetector:
    """A lingua detector restricted to ``languages`` (ISO 639-1 codes).

    Low-accuracy mode reads trigrams only: about three times faster on a sentence, but on
    short text it is wrong too often to decide alone (measured on MultiJail prompts, it takes
    3% of English requests for another language; on hh-rlhf replies it calls about 1% of
    English sentences French or German), so it serves only as :func:`language_share`'s
    screen. Detectors share lingua's models, so a screen costs no memory beside an accurate
    detector. ``preload`` loads the models it will use now rather than on the first text that
    needs them.
    """
    codes = sorted(set(languages))
    if not codes:
        raise ValueError("the language judge needs at least one language")
    isos = [_lingua_language(code).iso_code_639_1 for code in codes]
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*isos)
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    detector = builder.build()
    if preload:
        _load_models_in_use(detector, codes)
    return detector


#: A sentence per script that several languages write: asking a detector about it loads the
#: models of its languages that share the script (lingua loads a model on first need).
_WARM_UP = {"latin": "The weather is mild today and we walk in the park.",
            "cyrillic": "Сегодня тёплая погода, и мы гуляем в парке.",
            "arabic": "الطقس معتدل اليوم ونحن نمشي في الحديقة",
            "devanagari": "आज मौसम अच्छा है और हम पार्क में घूमते हैं।",
            "han": "今天天气很好我们在公园散步"}


def _load_models_in_use(detector: LanguageDetector, codes: list[str]) -> None:
    """Load now the models the detector will use, and only those: a language alone in its
    script among ``codes`` is told by its script (lingua's rules), so its models would sit
    unused; lingua's own preloading loads every model (~290 MB for the 15 default languages
    against ~185 MB in use)."""
    used: dict[str, int] = {}
    for code in codes:
        for script in _scripts_of(code):
            used[script] = used.get(script, 0) + 1
    for script, sample in _WARM_UP.items():
        if used.get(script, 0) > 1:
            detector.compute_language_confidence_values(sample)


# --------------------------------------------------------------------------------------------
# The judge

_FENCE = re.compile("```")


class LanguageJudge(Judge):
    """Scores ``1 - language consistency`` of the output and reasoning against the language
    of the request (or the tenant's configured language), category ``language_mix``.

    Every judged part with at least ``min_words`` counted words gets a verdict, also at score
    0, so that mixing rates can be computed from the verdict stream. The detectors are built
    once, here; lingua's detectors are thread-safe, and the judge keeps no per-request state.
    With ``preload`` (the default) construction takes about a second and loads the models it
    will use: for the 15 default languages about 185 MB, shared by every judge in the process.
    """

    name = "language"

    def __init__(self, settings: LanguageJudgeSettings, *, stream_window_chars: int = 400,
                 stream_every_chars: int = 1, preload: bool = True) -> None:
        self.settings = settings
        self.where = frozenset(Where(w) for w in settings.apply_to)
        self.min_words = settings.min_words
        self.tenant_languages = {t: code.lower() for t, code in settings.tenant_languages.items()}
        # A tenant's language must be one lingua may answer, or its text could never match.
        self.languages = frozenset(c.lower() for c in settings.languages) | frozenset(
            self.tenant_languages.values())
        self.detector = build_detector(self.languages, preload=preload)
        self.screen = build_detector(self.languages, low_accuracy=True, preload=preload)
        self.shared_scripts = _shared_scripts(self.languages)
        self._window = stream_window_chars
        self._every = stream_every_chars
        # The judge is asked about the output, the reasoning and every stream chunk of one
        # request: detect the request's language once. lru_cache is thread-safe.
        self._detect_cached = lru_cache(maxsize=512)(self._detect)

    # -- the request's language

    def _detect(self, text: str) -> tuple[str, ...]:
        cleaned = _clean(text[:_REQUEST_CHARS])
        counts: dict[str, int] = {}
        for sentence in _sentences(cleaned):
            for script, n in sentence.counts.items():
                counts[script] = counts.get(script, 0) + n
        if not counts:
            return ()
        script = max(counts, key=counts.__getitem__)
        if script in self.shared_scripts and counts[script] < _MIN_REQUEST_WORDS:
            return ()  # "ok", "Hi", "Ciao": any of several languages
        values = self.detector.compute_language_confidence_values(cleaned)
        if not values:
            return ()
        top = values[0].value
        return tuple(_code(v.language) for v in values if v.value >= PLAUSIBLE * top)

    def detect(self, text: str) -> tuple[str, ...]:
        """The configured languages ``text`` is plausibly in (ISO 639-1), likeliest first:
        usually one, several for a short or ambiguous text, none when it has too few words
        to tell."""
        return self._detect_cached(text) if text.strip() else ()

    def expected_languages(self, context: ExchangeContext) -> tuple[str, ...]:
        """The languages the exchange may be in: the tenant's, else the request's plausible
        languages (likeliest first)."""
        configured = self.tenant_languages.get(context.tenant)
        return (configured,) if configured is not None else self.detect(context.request_text)

    def expected_language(self, context: ExchangeContext) -> str | None:
        """The language the exchange should be in: the tenant's, else the request's likeliest;
        ``None`` when it cannot be told."""
        languages = self.expected_languages(context)
        return languages[0] if languages else None

    # -- scoring

    def share(self, text: str, expected: str,
              cache: MutableMapping[str, bool] | None = None) -> LanguageShare:
        """Words of ``text`` in ``expected`` (ISO 639-1, one of the judge's languages)."""
        if expected not in self.languages:
            raise ValueError(f"{expected!r} is not one of the judge's languages")
        return language_share(text, expected, self.detector, screen=self.screen,
                              shared_scripts=self.shared_scripts, cache=cache)

    def best_share(self, text: str, expected: str | Iterable[str],
                   cache: MutableMapping[str, bool] | None = None
                   ) -> tuple[str, LanguageShare] | None:
        """The expected language ``text`` is most consistent with, and its share; ``None``
        when no language is given. An ambiguous request accepts a reply in any language it may
        be in; the others are tried only when the likeliest leaves words over."""
        best: tuple[str, LanguageShare] | None = None
        for code in (expected,) if isinstance(expected, str) else expected:
            share = self.share(text, code, cache)
            if best is None or share.expected > best[1].expected:
                best = (code, share)
            if share.expected == share.total:
                break
        return best

    def consistency(self, text: str, expected: str | Iterable[str]) -> float | None:
        """R1's language-consistency reward of ``text``: the share of its words in language
        ``expected`` (ISO 639-1; with several, the best of them); ``None`` when it has no
        words. With :meth:`expected_languages` this is the judge's reward for a reply."""
        best = self.best_share(text, expected)
        return best[1].consistency if best is not None else None

    def _verdicts(self, text: str, where: Where, context: ExchangeContext,
                  cache: MutableMapping[str, bool] | None = None) -> list[Verdict]:
        if where not in self.where:
            return []
        best = self.best_share(text, self.expected_languages(context), cache)
        if best is None or best[1].total < self.min_words:
            return []
        code, share = best
        consistency = share.expected / share.total
        return [Verdict(judge=self.name, category=CATEGORY, score=round(1.0 - consistency, 4),
                        where=where, detail=f"expected={code} consistency={consistency:.2f}")]

    def judge(self, text: str, where: Where, context: ExchangeContext) -> list[Verdict]:
        return self._verdicts(text, where, context)

    def feed(self, state: StreamJudgeState, delta: str,
             context: ExchangeContext) -> list[Verdict]:
        """Judge only the last ``stream_window_chars`` of a stream, so a chunk costs the same
        however long the stream is; decisions on sentences still in the window are remembered
        in the stream state. A stream's verdicts are about its windows: one foreign sentence
        weighs more in a window than in the whole reply."""
        state.text += delta
        text = state.text
        judged = int(state.extra.get("judged_upto", 0))  # type: ignore[call-overload]
        if state.where not in self.where or len(text) - judged < self._every:
            return []
        state.extra["judged_upto"] = len(text)
        start = max(0, len(text) - self._window)
        # Count the code fences that scrolled out of the window: inside an open code block
        # the window is code, not prose.
        scanned = int(state.extra.get("fence_scanned", 0))  # type: ignore[call-overload]
        if start > scanned:
            fences = int(state.extra.get("fences", 0))  # type: ignore[call-overload]
            fences += sum(1 for m in _FENCE.finditer(text, scanned, min(start + 2, len(text)))
                          if m.start() < start)
            state.extra["fences"] = fences
            state.extra["fence_scanned"] = start
        window = text[start:]
        if start and _LATIN_LETTERS.match(text, start - 1):
            # The window starts inside a word: drop the fragment rather than count it.
            cut = _LATIN_LETTERS.match(window)
            window = window[cut.end():] if cut else window
        if int(state.extra.get("fences", 0)) % 2:  # type: ignore[call-overload]
            window = "```" + window
        cache = state.extra.setdefault("sentences", {})
        return self._verdicts(window, state.where, context, cache)  # type: ignore[arg-type]
