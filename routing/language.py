"""Offline language detection for short social posts: function words and letter patterns.

Handles, hashtags, URLs, digits and emoji are dropped before scoring: handles and URLs carry no
language, and hashtags are mostly brand names or English memes even in Dutch posts. Each
language scores one point per function word it knows and a fraction per distinctive letter
pattern; the scores act as log-odds, so the confidence is the winner's softmax share.
"""

from __future__ import annotations

import math
import re

UNDETERMINED = "und"
LANGUAGES: tuple[str, ...] = ("en", "nl", "de", "fr", "es")

_WORDS: dict[str, str] = {
    "en": """
        the a an and or but if of to in on at for with from by about as into is are was were be
        been being am do does did done have has had will would can could should shall may might
        must not no yes i you u he she it we they me him her us them my your his its our their
        this that these those what which who whom whose where when why how there here than then
        so just very too also only still again already even ever never always now today
        yesterday tomorrow all any some every each more most much many other such out up down
        off after before because while until since through without get got getting go going
        went make made know need want one well really please thanks thank help back via lol im
        dont cant wont didnt doesnt isnt don didn doesn isn wasn won ll ve re hey hi guys sorry
        anyone anything nothing something someone way time day hours wait waiting customer
        flight delayed order worst best great good bad love hate thing thx awesome amazing
        impressive literally minutes took slow unfriendly star stars come guys seriously
        again ever should would
    """,
    "nl": """
        de het een en van in is op te dat die niet ik je jij jou jouw u uw we wij ze zij hij hem
        haar hun hen met voor maar ook nog al als of om aan bij naar dan zijn was waren werd
        wordt worden ben bent heb hebt heeft hebben had kan kun kunt kunnen moet moeten wil wilt
        willen zou zouden zal zullen gaat ga gaan doen doet gedaan geen wel er hier daar nu weer
        echt heel erg veel meer mijn mn jullie ons onze wat wie waar waarom hoe wanneer welke
        dit deze door over uit tot toch zo even alleen altijd nooit niks niets iets iemand
        vandaag morgen gisteren graag bedankt dank dankjewel dankuwel alsjeblieft alstublieft
        helaas goed slecht mee zelf na nee ja omdat want dus toen sinds zonder tegen onder
        tussen weet weten krijg krijgen gekregen kom komt komen besteld bestelling pakket
        levering bezorgd klantenservice vertraging trein uur dagen minuten nou hoor ff mag nieuw
        nieuwe me lekker lekkere gezellig gezellige zeer jammer prima leuk leuke vriendelijk
        vriendelijke bediening eten vers verse vlees eigenlijk mooi mooie snel snelle duur
        goedkoop zeker heerlijk heerlijke klant klanten storing factuur abonnement monteur
        zenders beeld haperen kapot stuk weg bellen gebeld wachten antwoord reactie
    """,
    "de": """
        der die das den dem des ein eine einen einem einer und ist sind nicht ich du er sie es
        wir ihr mit auf für von zu zum zur aber auch noch schon nur wie was wo wenn dass mein
        meine dein sehr kein keine bei nach aus um über heute immer hier jetzt gibt habe hat
        haben bin bist war waren wird werden kann können muss soll will mal doch oder denn weil
        also bitte danke gut schlecht leider warum wieder alles nichts etwas uns euch ihnen mir
        mich dir dich sich seit ohne gegen durch unter zwischen viel vielleicht gestern morgen
        ja nein endlich bestellung paket lieferung kundenservice zug verspätung stunden in im
    """,
    "fr": """
        le la les un une des du de et est sont pas ne je tu il elle on nous vous ils elles avec
        pour par sur dans au aux ce cette ces mon ma mes ton ta tes son sa ses notre votre leur
        qui que quoi où quand comment pourquoi mais ou donc car très trop bien mal merci bonjour
        avoir ai avons avez ont être suis sommes êtes été fait faire peut veux plus moins
        toujours jamais rien tout tous aujourd hui demain hier encore déjà aussi ici là qu c j l
        d en vol retard commande colis livraison heures oui non se si
    """,
    "es": """
        el la los las un una unos unas y e o de del al a en con por para sin sobre es son está
        están estoy ser estar fue era hay ha han he no sí si que qué como cómo cuando cuándo
        donde dónde porque pero muy más menos ya también todavía aún nunca siempre nada todo
        todos algo alguien mi mis tu tus su sus nuestro nuestra me te se lo le les nos yo tú él
        ella ellos nosotros usted ustedes este esta esto estos ese esa eso hoy mañana ayer
        gracias hola bien mal vuelo retraso pedido paquete entrega horas tengo tiene tienen
        hacer puede quiero favor ¿ ¡
    """,
}

# Letter patterns that are common in one language and rare in the others, with their weight.
_PATTERNS: dict[str, tuple[tuple[str, float], ...]] = {
    "en": (("th", 0.5), ("wh", 0.6), ("ght", 0.5), ("ing", 0.2), ("sh", 0.2)),
    "nl": (
        ("ij", 1.0),
        ("aa", 0.5),
        ("uu", 0.6),
        ("oe", 0.3),
        ("ui", 0.2),
        ("sch", 0.3),
        ("tje", 0.6),
        ("jes", 0.4),
        ("heid", 0.8),
        ("lijk", 0.5),
    ),
    "de": (("ä", 1.0), ("ö", 1.0), ("ü", 1.0), ("ß", 1.0), ("sch", 0.3), ("tz", 0.5)),
    "fr": (("è", 1.0), ("ê", 1.0), ("à", 0.8), ("ç", 1.0), ("é", 0.5), ("eau", 1.0), ("oi", 0.3)),
    "es": (("ñ", 1.0), ("á", 0.6), ("í", 0.6), ("ó", 0.6), ("ción", 1.0)),
}

# One point of evidence multiplies the odds by e**1.5: one word gives ~0.5, three give ~0.95.
_SHARPNESS = 1.5
# Less than one function word's worth of evidence says nothing.
_MIN_EVIDENCE = 1.0

# URLs, handles and hashtags match as a whole but yield an empty group, so they never vote.
_WORD = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|([^\W\d_]+|[¿¡])")


def _word_index() -> dict[str, tuple[int, ...]]:
    index: dict[str, list[int]] = {}
    for position, language in enumerate(LANGUAGES):
        for word in sorted(set(_WORDS[language].split())):
            index.setdefault(word, []).append(position)
    return {word: tuple(positions) for word, positions in index.items()}


_WORD_LANGUAGES = _word_index()


def _pattern_index() -> dict[str, tuple[tuple[int, float], ...]]:
    index: dict[str, list[tuple[int, float]]] = {}
    for position, language in enumerate(LANGUAGES):
        for pattern, weight in _PATTERNS[language]:
            index.setdefault(pattern, []).append((position, weight))
    return {pattern: tuple(votes) for pattern, votes in index.items()}


_PATTERN_VOTES = _pattern_index()
# One pass over the text finds every pattern; longest first so "sch" wins over "sh".
_PATTERN = re.compile("|".join(sorted(_PATTERN_VOTES, key=lambda p: (-len(p), p))))


def language_scores(text: str) -> dict[str, float]:
    """The evidence for each language in ``text`` (higher is more likely; 0 is none)."""
    return dict(zip(LANGUAGES, _scores(text), strict=True))


def _scores(text: str) -> list[float]:
    # Function words first, then the letter patterns in text order: the float sums (and so
    # every tie and confidence) depend on that order.
    scores = [0.0] * len(LANGUAGES)
    votes: list[tuple[int, float]] = []
    for hits, voted in [_MEMO.get(chunk) or _learn(chunk) for chunk in text.lower().split()]:
        for position in hits:
            scores[position] += 1.0
        votes += voted
    for position, weight in votes:
        scores[position] += weight
    return scores


# Whitespace-separated chunks remembered before the memory starts afresh (~0.3 kB each).
_MAX_CHUNKS = 65_536
_Evidence = tuple[tuple[int, ...], tuple[tuple[int, float], ...]]
_MEMO: dict[str, _Evidence] = {}


def _learn(chunk: str) -> _Evidence:
    """The function-word hits and pattern votes of one lowercase chunk, in text order.

    No word, URL, handle or pattern spans whitespace, so a text's evidence is its chunks'
    evidence in turn; posts repeat chunks a lot, so each is scored once.
    """
    words = _WORD.findall(chunk)
    hits = tuple(position for word in words for position in _WORD_LANGUAGES.get(word, ()))
    patterns = _PATTERN.findall(" ".join(words))
    evidence = (hits, tuple(vote for pattern in patterns for vote in _PATTERN_VOTES[pattern]))
    if len(_MEMO) >= _MAX_CHUNKS:
        _MEMO.clear()
    _MEMO[chunk] = evidence
    return evidence


def detect_language(text: str) -> tuple[str, float]:
    """The most likely ISO 639-1 code of ``text`` and a confidence in 0..1.

    Returns ``("und", 0.0)`` when the text holds too little evidence or two languages tie.
    """
    scores = _scores(text)
    best = max(scores)
    if best < _MIN_EVIDENCE or scores.count(best) > 1:
        return UNDETERMINED, 0.0
    total = sum(math.exp(_SHARPNESS * (score - best)) for score in scores)
    return LANGUAGES[scores.index(best)], 1.0 / total
