"""Dataset converters: small CSVs written here, then the real files when /work/shared is present."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from connectors.datasets import CONVERTERS, airline_tweets, customer_support_tweets
from routing.errors import MalformedMentionError
from routing.models import Mention

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PST = timezone(timedelta(hours=-8))

AIRLINE_HEADER = [
    "tweet_id",
    "airline_sentiment",
    "airline_sentiment_confidence",
    "negativereason",
    "negativereason_confidence",
    "airline",
    "airline_sentiment_gold",
    "name",
    "negativereason_gold",
    "retweet_count",
    "text",
    "tweet_coord",
    "tweet_created",
    "tweet_location",
    "user_timezone",
]
TWCS_HEADER = [
    "",
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
]


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def tweet(tweet_id: str, sentiment: str, reason: str, created: str, **more: str) -> dict[str, str]:
    row = {
        "tweet_id": tweet_id,
        "airline_sentiment": sentiment,
        "negativereason": reason,
        "airline": "Virgin America",
        "name": "usagibrian",
        "text": f"@VirginAmerica tweet {tweet_id}",
        "tweet_created": created,
    }
    return row | more


def real_file(relative: str) -> Path:
    path = DATA / relative
    if not path.is_file():
        pytest.skip(f"dataset {path} is not present (it lives outside the repo, in /work/shared)")
    return path


# --- airline --------------------------------------------------------------------------


@pytest.fixture
def airline_csv(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "Tweets.csv",
        AIRLINE_HEADER,
        [
            tweet("569741221783957504", "negative", "Late Flight", "2015-02-22 22:11:07 -0800"),
            tweet("569714127792254976", "positive", "", "2015-02-21 20:23:27 -0800"),
            tweet("569741221783957504", "neutral", "", "2015-02-22 22:11:07 -0800"),
            tweet("569700000000000000", "negative", "Can't Tell", "2015-02-21 20:23:27 -0800"),
            tweet(
                "569600000000000000",
                "negative",
                "longlines",
                "2015-02-20 08:00:00 -0800",
                airline="US Airways",
                name="KindofLuke",
                text="line one\nline two",
            ),
            tweet("569500000000000000", "neutral", "", "2015-02-22 23:00:00 -0800"),
        ],
    )


def test_airline_tweets_become_mentions_in_time_order(airline_csv: Path) -> None:
    mentions = list(airline_tweets(airline_csv))
    # Then the repeated tweet is kept once (its first row), and time order holds
    assert [m.id for m in mentions] == [
        "x:569600000000000000",
        "x:569700000000000000",
        "x:569714127792254976",
        "x:569741221783957504",
        "x:569500000000000000",
    ]
    late = mentions[3]
    assert late.labels == {
        "sentiment": "negative",
        "topic": "late_flight",
        "airline": "virgin_america",
    }
    assert late.created_at == datetime(2015, 2, 22, 22, 11, 7, tzinfo=PST)
    assert late.created_at.utcoffset() == timedelta(hours=-8)
    assert (late.platform, late.lang, late.conversation_id) == ("x", "en", late.id)
    assert (late.author.id, late.author.handle, late.author.followers) == (
        "usagibrian",
        "@usagibrian",
        0,
    )
    assert late.url == "https://twitter.com/usagibrian/status/569741221783957504"


def test_airline_topics_are_reason_slugs_or_the_sentiment(airline_csv: Path) -> None:
    topics = {m.id: m.labels["topic"] for m in airline_tweets(airline_csv)}
    assert topics == {
        "x:569600000000000000": "longlines",
        "x:569700000000000000": "cant_tell",
        "x:569714127792254976": "positive",
        "x:569741221783957504": "late_flight",
        "x:569500000000000000": "neutral",
    }


def test_a_multiline_airline_tweet_keeps_its_text(airline_csv: Path) -> None:
    first = next(airline_tweets(airline_csv))
    assert first.text == "line one\nline two"
    assert first.labels["airline"] == "us_airways"


def test_a_bad_airline_row_names_its_file_and_line(tmp_path: Path) -> None:
    # Given a bad date on the row after a two-line record (so the row starts on line 4)
    path = write_csv(
        tmp_path / "Tweets.csv",
        AIRLINE_HEADER,
        [
            tweet("1", "neutral", "", "2015-02-22 22:11:07 -0800", text="a\nb"),
            tweet("2", "neutral", "", "yesterday"),
        ],
    )
    with pytest.raises(MalformedMentionError) as caught:
        list(airline_tweets(path))
    assert (caught.value.source, caught.value.line) == (str(path), 4)
    assert "yesterday" in caught.value.reason


def test_an_airline_row_without_a_name_is_refused(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "Tweets.csv",
        AIRLINE_HEADER,
        [tweet("1", "neutral", "", "2015-02-22 22:11:07 -0800", name="")],
    )
    with pytest.raises(MalformedMentionError, match=r"Tweets\.csv:2: author\.id"):
        list(airline_tweets(path))


def test_a_file_without_the_expected_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("tweet_id,text\n1,hello\n", encoding="utf-8")
    with pytest.raises(MalformedMentionError, match="missing columns: airline_sentiment"):
        airline_tweets(path)


# --- twcs -----------------------------------------------------------------------------


def twcs_row(
    n: int, author: str, inbound: bool, minute: int, reply_to: int | None = None
) -> dict[str, str]:
    return {
        "": str(n),
        "tweet_id": str(n),
        "author_id": author,
        "inbound": str(inbound),
        "created_at": f"Tue Oct 31 22:{minute:02d}:00 +0000 2017",
        "text": f"tweet {n}",
        "in_response_to_tweet_id": "" if reply_to is None else f"{reply_to}.0",
    }


@pytest.fixture
def twcs_csv(tmp_path: Path) -> Path:
    # Thread A: customer 1 -> brand 2 -> customer 3; reply 3 also points at brand 2.
    # Thread B: customer 10 to two brands, each answering; 13 answers brand 12.
    # Thread C: customer 20 with no brand reply; 21 replies to a tweet not in the file.
    return write_csv(
        tmp_path / "twcs.csv",
        TWCS_HEADER,
        [
            twcs_row(3, "115712", True, 12, reply_to=2),
            twcs_row(2, "sprintcare", False, 11, reply_to=1),
            twcs_row(1, "115712", True, 10),
            twcs_row(10, "900", True, 20),
            twcs_row(11, "Tesco", False, 21, reply_to=10),
            twcs_row(12, "AldiUK", False, 22, reply_to=10),
            twcs_row(13, "900", True, 23, reply_to=12),
            twcs_row(20, "777", True, 5),
            twcs_row(21, "778", True, 30, reply_to=99),
        ],
    )


def by_id(mentions: list[Mention]) -> dict[str, Mention]:
    return {m.id: m for m in mentions}


def test_twcs_inbound_tweets_in_time_order(twcs_csv: Path) -> None:
    mentions = list(customer_support_tweets(twcs_csv))
    assert [m.id for m in mentions] == ["x:20", "x:1", "x:3", "x:10", "x:13", "x:21"]
    first = by_id(mentions)["x:1"]
    assert first.created_at == datetime(2017, 10, 31, 22, 10, tzinfo=UTC)
    assert (first.author.id, first.author.handle) == ("115712", "@115712")


def test_twcs_threads_and_replies(twcs_csv: Path) -> None:
    mentions = by_id(list(customer_support_tweets(twcs_csv)))
    assert mentions["x:3"].in_reply_to == "x:2"
    assert mentions["x:3"].conversation_id == "x:1"
    assert mentions["x:1"].in_reply_to is None
    assert mentions["x:1"].conversation_id == "x:1"
    # A reply to a tweet outside the file opens its own conversation
    assert mentions["x:21"].in_reply_to == "x:99"
    assert mentions["x:21"].conversation_id == "x:21"


def test_twcs_brand_is_the_one_the_customer_talks_to(twcs_csv: Path) -> None:
    brands = {m.id: m.labels.get("brand") for m in customer_support_tweets(twcs_csv)}
    assert brands == {
        "x:1": "sprintcare",
        "x:3": "sprintcare",
        "x:10": "Tesco",  # the first of the two brands that answered
        "x:13": "AldiUK",  # the brand this reply answers
        "x:20": None,
        "x:21": None,
    }


def test_twcs_can_include_the_brands_own_tweets(twcs_csv: Path) -> None:
    mentions = by_id(list(customer_support_tweets(twcs_csv, inbound_only=False)))
    assert len(mentions) == 9
    assert mentions["x:12"].labels == {"brand": "AldiUK"}
    assert mentions["x:12"].conversation_id == "x:10"


def test_a_bad_twcs_reply_id_names_its_line(tmp_path: Path) -> None:
    row = twcs_row(5, "123", True, 1) | {"in_response_to_tweet_id": "3.5"}
    path = write_csv(tmp_path / "twcs.csv", TWCS_HEADER, [twcs_row(4, "123", True, 0), row])
    with pytest.raises(MalformedMentionError, match=r"twcs\.csv:3: tweet id must be a whole"):
        customer_support_tweets(path)


def test_converters_are_registered_by_name() -> None:
    assert CONVERTERS["airline"] is airline_tweets
    assert CONVERTERS["twcs"] is customer_support_tweets


# --- the real files -------------------------------------------------------------------


def test_the_real_airline_file_converts_whole_and_in_order() -> None:
    mentions = list(airline_tweets(real_file("airline_sentiment/Tweets.csv")))
    assert len(mentions) == len({m.id for m in mentions}) == 10_262
    times = [m.created_at for m in mentions]
    assert times == sorted(times)
    assert Counter(m.labels["sentiment"] for m in mentions).keys() == {
        "negative",
        "neutral",
        "positive",
    }


def test_the_real_twcs_file_converts_every_inbound_tweet() -> None:
    mentions = list(customer_support_tweets(real_file("twcs/twcs_head5000.csv")))
    assert len(mentions) == 2_778
    times = [m.created_at for m in mentions]
    assert times == sorted(times)
    assert all("brand" in m.labels for m in mentions)
