"""The urgency policy: each signal raises urgency and is named in the reasons."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from routing.models import Author, Mention, Sentiment, Urgency
from routing.urgency import (
    KeywordRule,
    ReachRule,
    RepeatRule,
    SentimentRule,
    UrgencyAssessor,
    UrgencyPolicy,
)
from tests.factories import T0

QUIET = UrgencyPolicy(
    topics={}, keywords={}, negative_sentiment=None, reach=None, repeat_complaint=None
)


def post(text: str = "a question about my plan", *, followers: int = 10, author: str = "u1",
         at_minutes: float = 0, id: str = "m1") -> Mention:  # fmt: skip
    return Mention(
        id=id,
        platform="x",
        author=Author(id=author, followers=followers),
        text=text,
        created_at=T0 + timedelta(minutes=at_minutes),
    )


def assess(
    policy: UrgencyPolicy,
    mention: Mention,
    urgency: Urgency = Urgency.LOW,
    *,
    topic: str = "product",
    sentiment: Sentiment = Sentiment.NEUTRAL,
    confidence: float = 0.9,
) -> tuple[Urgency, tuple[str, ...]]:
    result = UrgencyAssessor(policy).assess(
        mention, urgency, topic=topic, sentiment=sentiment, sentiment_confidence=confidence
    )
    return result.urgency, result.reasons


def test_nothing_fires_on_a_calm_question() -> None:
    # Given the default policy and a neutral how-to question from a small account
    # Then the model's urgency stands, with no reasons
    assert assess(UrgencyPolicy(), post(), Urgency.LOW) == (Urgency.LOW, ())


def test_negative_sentiment_raises_and_is_named() -> None:
    policy = QUIET.model_copy(update={"negative_sentiment": SentimentRule(max=Urgency.HIGH)})
    assert assess(policy, post(), Urgency.NORMAL, sentiment=Sentiment.NEGATIVE) == (
        Urgency.HIGH,
        ("negative_sentiment",),
    )


def test_negative_sentiment_default_lifts_low_to_normal_only() -> None:
    policy = QUIET.model_copy(update={"negative_sentiment": SentimentRule()})
    assert assess(policy, post(), Urgency.LOW, sentiment=Sentiment.NEGATIVE)[0] is Urgency.NORMAL
    # A mention already at its max is not raised and the signal is not named
    assert assess(policy, post(), Urgency.NORMAL, sentiment=Sentiment.NEGATIVE) == (
        Urgency.NORMAL,
        (),
    )


def test_unsure_negative_sentiment_does_not_count() -> None:
    policy = QUIET.model_copy(update={"negative_sentiment": SentimentRule(min_confidence=0.8)})
    result = assess(policy, post(), Urgency.LOW, sentiment=Sentiment.NEGATIVE, confidence=0.6)
    assert result == (Urgency.LOW, ())


def test_topic_floor_outranks_a_how_to_question() -> None:
    # Given the default floors: an outage is at least normal
    policy = QUIET.model_copy(update={"topics": UrgencyPolicy().topics})
    assert assess(policy, post("internet down"), Urgency.LOW, topic="outage") == (
        Urgency.NORMAL,
        ("topic:outage",),
    )
    strict = QUIET.model_copy(update={"topics": {"outage": Urgency.HIGH}})
    assert assess(strict, post("internet down"), Urgency.LOW, topic="outage")[0] is Urgency.HIGH
    assert assess(policy, post("how do I pair it"), Urgency.LOW, topic="product") == (
        Urgency.LOW,
        (),
    )


def test_reach_raises_and_names_the_followers() -> None:
    policy = QUIET.model_copy(update={"reach": ReachRule(followers=10_000)})
    assert assess(policy, post(followers=52_000), Urgency.NORMAL) == (
        Urgency.HIGH,
        ("reach:52000",),
    )
    assert assess(policy, post(followers=9_999), Urgency.NORMAL) == (Urgency.NORMAL, ())
    # Praise from a large account is welcome, not urgent
    praise = assess(policy, post(followers=52_000), Urgency.LOW, sentiment=Sentiment.POSITIVE)
    assert praise == (Urgency.LOW, ())


@pytest.mark.parametrize(
    ("text", "expected", "reason"),
    [
        ("my charger caught fire last night", Urgency.CRITICAL, "safety:caught fire"),
        ("De oplader is oververhit en rookt", Urgency.CRITICAL, "safety:oververhit"),
        ("my account got HACKED, orders I never made", Urgency.HIGH, "security:hacked"),
        ("I'm talking to my lawyer about this", Urgency.HIGH, "legal:lawyer"),
        ("Journalist here: is the outage nationwide?", Urgency.HIGH, "press:journalist"),
        ("ik stap naar de geschillencommissie", Urgency.HIGH, "legal:geschillencommissie"),
        ("#scam they took my money", Urgency.HIGH, "security:scam"),
    ],
)
def test_words_of_safety_security_legal_and_press_lift_to_their_floor(
    text: str, expected: Urgency, reason: str
) -> None:
    policy = QUIET.model_copy(update={"keywords": UrgencyPolicy().keywords})
    assert assess(policy, post(text), Urgency.LOW) == (expected, (reason,))


def test_keywords_ignore_handles_and_parts_of_words() -> None:
    policy = QUIET.model_copy(update={"keywords": UrgencyPolicy().keywords})
    for text in ("@firestation_hq thanks!", "the courtyard is lovely", "shacked up at home"):
        assert assess(policy, post(text), Urgency.LOW) == (Urgency.LOW, ()), text


def test_a_repeat_complaint_within_the_window_raises() -> None:
    # Given a policy with only the repeat signal: one earlier complaint within 60 minutes
    rule = RepeatRule(window_minutes=60, previous=1)
    assessor = UrgencyAssessor(QUIET.model_copy(update={"repeat_complaint": rule}))

    def complain(minutes: float, author: str = "u1") -> tuple[Urgency, tuple[str, ...]]:
        found = assessor.assess(
            post(author=author, at_minutes=minutes), Urgency.NORMAL,
            topic="billing", sentiment=Sentiment.NEGATIVE,
        )  # fmt: skip
        return found.urgency, found.reasons

    # When the same author complains twice within the window, the second is raised
    assert complain(0) == (Urgency.NORMAL, ())
    assert complain(30) == (Urgency.HIGH, ("repeat_complaint:1",))
    # And another author is not affected, nor a complaint after the window has passed
    assert complain(31, author="u2") == (Urgency.NORMAL, ())
    assert complain(200) == (Urgency.NORMAL, ())


def test_the_window_is_exact_to_the_microsecond_across_utc_offsets() -> None:
    # Given a 60-minute window and complaints written with different UTC offsets
    rule = RepeatRule(window_minutes=60, previous=1)
    assessor = UrgencyAssessor(QUIET.model_copy(update={"repeat_complaint": rule}))
    amsterdam, new_york = timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))

    def complain(author: str, at: datetime) -> tuple[str, ...]:
        mention = post(author=author).model_copy(update={"created_at": at})
        return assessor.assess(
            mention, Urgency.NORMAL, topic="billing", sentiment=Sentiment.NEGATIVE
        ).reasons

    # When the second complaint comes exactly 60 minutes later, in another offset, it counts
    assert complain("u1", T0.astimezone(amsterdam)) == ()
    assert complain("u1", (T0 + timedelta(hours=1)).astimezone(new_york)) == ("repeat_complaint:1",)
    # And one microsecond past the window it does not
    assert complain("u2", T0.astimezone(new_york)) == ()
    late = T0 + timedelta(hours=1, microseconds=1)
    assert complain("u2", late.astimezone(amsterdam)) == ()


def test_praise_is_not_a_complaint() -> None:
    rule = RepeatRule(window_minutes=60, previous=1)
    assessor = UrgencyAssessor(QUIET.model_copy(update={"repeat_complaint": rule}))
    for minutes in (0, 5, 10):
        found = assessor.assess(
            post(at_minutes=minutes), Urgency.LOW, topic="praise", sentiment=Sentiment.POSITIVE
        )
        assert found.reasons == ()


def test_repeat_memory_is_bounded_and_forgets_the_least_recent_author() -> None:
    rule = RepeatRule(window_minutes=600, previous=1, max_authors=3)
    assessor = UrgencyAssessor(QUIET.model_copy(update={"repeat_complaint": rule}))
    for i in range(10):
        assessor.assess(post(author=f"a{i}", at_minutes=i), Urgency.NORMAL,
                        topic="billing", sentiment=Sentiment.NEGATIVE)  # fmt: skip
    assert assessor.remembered_authors == 3
    # a0 was forgotten: its second complaint is not a repeat; a9 is remembered
    first = assessor.assess(post(author="a0", at_minutes=20), Urgency.NORMAL,
                            topic="billing", sentiment=Sentiment.NEGATIVE)  # fmt: skip
    last = assessor.assess(post(author="a9", at_minutes=21), Urgency.NORMAL,
                           topic="billing", sentiment=Sentiment.NEGATIVE)  # fmt: skip
    assert (first.reasons, last.reasons) == ((), ("repeat_complaint:1",))


def test_signals_combine_and_every_raiser_is_named() -> None:
    # Given a negative post from a big account with a safety word, on an outage topic
    mention = post("the modem is smoking, this is dangerous", followers=80_000)
    result = assess(UrgencyPolicy(), mention, Urgency.LOW, topic="outage",
                    sentiment=Sentiment.NEGATIVE)  # fmt: skip
    # Then it is critical and each signal is named
    assert result[0] is Urgency.CRITICAL
    assert result[1] == ("topic:outage", "safety:smoking", "negative_sentiment", "reach:80000")


def test_same_input_same_output() -> None:
    mentions = [post(f"bill wrong again {i}", author=f"u{i % 3}", at_minutes=i, id=f"m{i}")
                for i in range(30)]  # fmt: skip

    def run() -> list[tuple[Urgency, tuple[str, ...]]]:
        assessor = UrgencyAssessor(UrgencyPolicy())
        return [
            (a.urgency, a.reasons)
            for a in (
                assessor.assess(m, Urgency.NORMAL, topic="billing", sentiment=Sentiment.NEGATIVE)
                for m in mentions
            )
        ]

    assert run() == run()


def test_a_bad_policy_is_refused_with_the_field() -> None:
    with pytest.raises(ValidationError, match=r"keywords\.safety\.at_least"):
        UrgencyPolicy.model_validate(
            {"keywords": {"safety": {"at_least": "urgent!", "words": ["x"]}}}
        )
    with pytest.raises(ValidationError, match="use letters"):
        KeywordRule(at_least=Urgency.HIGH, words=["(.*)"])
    with pytest.raises(ValidationError, match=r"reach\.steps"):
        UrgencyPolicy.model_validate({"reach": {"steps": 9}})
