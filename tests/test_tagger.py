"""The tagger: model heads, the unknown fallback, language, urgency policy and labels."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from pydantic import ValidationError

from routing.models import UNKNOWN_TOPIC, Classification, Mention, Sentiment, Taxonomy, Urgency
from routing.tagger import DEFAULT_UNKNOWN_THRESHOLD, Tagger
from routing.urgency import UrgencyPolicy
from tests.factories import mention

TAXONOMY = Taxonomy.model_validate(
    {
        "topics": {t: {"handling_minutes": 5} for t in ("billing", "outage", "praise", "unknown")},
        "urgency": {u.value: {"sla_minutes": 60, "weight": 1} for u in Urgency},
    }
)


class FixedModel:
    """A stand-in classifier that answers the same heads for every text."""

    version = "fixed0000000"

    def __init__(self, heads: dict[str, tuple[str, float]]) -> None:
        self.heads = heads

    def classify_batch(self, texts: Sequence[str]) -> list[dict[str, tuple[str, float]]]:
        return [dict(self.heads) for _ in texts]


def one(tagger: Tagger, m: Mention | None = None) -> object:
    return tagger.tag([m or mention(text="my bill is wrong")])[0]


def model(topic: str = "billing", p: float = 0.9, urgency: str = "normal",
          sentiment: str = "neutral") -> FixedModel:  # fmt: skip
    return FixedModel(
        {"topic": (topic, p), "urgency": (urgency, 0.8), "sentiment": (sentiment, 0.9)}
    )


def test_confident_topic_is_kept() -> None:
    c = Tagger(model(p=0.9), TAXONOMY).tag([mention()])[0]
    assert (c.topic, c.confidence["topic"]) == ("billing", 0.9)


@pytest.mark.parametrize("p", [0.0, 0.2, DEFAULT_UNKNOWN_THRESHOLD - 0.01])
def test_unsure_topic_falls_back_to_unknown(p: float) -> None:
    # Given a topic guessed with less confidence than the threshold
    c = Tagger(model(p=p), TAXONOMY).tag([mention()])[0]
    # Then the topic is unknown, and the confidence of the guess is still reported
    assert c.topic == UNKNOWN_TOPIC
    assert c.confidence["topic"] == pytest.approx(p)


def test_threshold_is_configurable() -> None:
    assert Tagger(model(p=0.6), TAXONOMY, unknown_threshold=0.7).tag([mention()])[0].topic == (
        UNKNOWN_TOPIC
    )
    assert Tagger(model(p=0.1), TAXONOMY, unknown_threshold=0.0).tag([mention()])[0].topic == (
        "billing"
    )
    with pytest.raises(ValueError, match="unknown_threshold"):
        Tagger(model(), TAXONOMY, unknown_threshold=1.5)


def test_topic_outside_the_taxonomy_is_unknown() -> None:
    assert Tagger(model(topic="delivery"), TAXONOMY).tag([mention()])[0].topic == UNKNOWN_TOPIC


def test_language_is_detected_unless_the_platform_says() -> None:
    tagger = Tagger(model(), TAXONOMY)
    dutch, told = tagger.tag(
        [
            mention("a", text="Mijn factuur klopt niet, kunnen jullie dat nakijken?"),
            mention("b", text="Mijn factuur klopt niet", lang="en"),
        ]
    )
    assert dutch.language == "nl"
    assert 0.5 < dutch.confidence["language"] <= 1.0
    assert (told.language, told.confidence["language"]) == ("en", 1.0)


def test_policy_raises_the_model_urgency_with_reasons() -> None:
    # Given an outage mention the model rates low, and the default policy
    tagger = Tagger(model(topic="outage", urgency="low"), TAXONOMY, policy=UrgencyPolicy())
    c = tagger.tag([mention(text="internet down in the whole street")])[0]
    # Then the topic floor raises it, and says so
    assert c.urgency is Urgency.NORMAL
    assert c.urgency_reasons == ("topic:outage",)


def test_without_a_policy_the_model_urgency_stands() -> None:
    c = Tagger(model(topic="outage", urgency="normal"), TAXONOMY).tag([mention()])[0]
    assert (c.urgency, c.urgency_reasons) == (Urgency.NORMAL, ())


def test_recorded_labels_win_and_a_recorded_urgency_beats_the_policy() -> None:
    # Given a mention with recorded labels, and a model and policy that disagree
    labelled = mention(text="my modem caught fire", labels={"topic": "billing", "urgency": "low"})
    tagger = Tagger(model(topic="outage", urgency="normal"), TAXONOMY, use_labels=True,
                    policy=UrgencyPolicy())  # fmt: skip
    c = tagger.tag([labelled])[0]
    # Then the labels are used as they are: routing on labels measures routing alone
    assert (c.topic, c.urgency, c.urgency_reasons) == ("billing", Urgency.LOW, ())


def test_without_a_recorded_urgency_the_policy_still_runs_on_labels() -> None:
    labelled = mention(text="my modem caught fire", labels={"topic": "billing"})
    tagger = Tagger(None, TAXONOMY, use_labels=True, policy=UrgencyPolicy())
    c = tagger.tag([labelled])[0]
    assert c.urgency is Urgency.CRITICAL
    assert c.urgency_reasons == ("safety:caught fire",)


def test_sentiment_and_unknown_values_fall_back() -> None:
    c = Tagger(FixedModel({"sentiment": ("furious", 0.9)}), TAXONOMY).tag([mention()])[0]
    assert (c.sentiment, c.urgency, c.topic) == (Sentiment.NEUTRAL, Urgency.NORMAL, UNKNOWN_TOPIC)


def test_a_tagger_needs_a_model_or_labels() -> None:
    with pytest.raises(ValueError, match="needs a model"):
        Tagger(None, TAXONOMY)


@pytest.mark.parametrize("use_labels", [False, True])
def test_classifications_are_what_validating_them_gives(use_labels: bool) -> None:
    # Given mentions with and without a language and labels, through the urgency policy
    safety = {"words": ["fire"], "at_least": "critical"}
    policy = UrgencyPolicy.model_validate({"keywords": {"safety": safety}})
    tagger = Tagger(
        model(urgency="high", sentiment="negative"), TAXONOMY, use_labels=use_labels, policy=policy
    )
    mentions = [
        mention("m1", text="my bill is wrong", lang="en"),
        mention("m2", text="the office is on fire", labels={"topic": "outage"}),
    ]
    tagged = tagger.tag(mentions)
    assert tagged[1].urgency_reasons  # the policy raised one
    for c in tagged:
        # Then each is equal to the same fields validated, field by field and in its bytes
        again = Classification.model_validate(c.model_dump())
        assert c == again
        assert c.model_dump_json() == again.model_dump_json()
        assert c.model_fields_set == again.model_fields_set


def test_a_confidence_out_of_range_is_refused() -> None:
    # Given a model that reports a probability above 1
    tagger = Tagger(model(p=1.5), TAXONOMY)
    # Then the classification is refused, naming the field
    with pytest.raises(ValidationError, match=r"confidence\.topic"):
        tagger.tag([mention()])
