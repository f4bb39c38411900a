"""The X (Twitter) API v2 connector, through tweepy: filtered stream, catch-up, mentions."""

from connectors.x.cursor import Cursor
from connectors.x.lines import KeepAlive, Notice, StreamEvent, TweetLine, parse_stream_line
from connectors.x.query import TAG_PREFIX, RulePlan, brand_query, plan_rules, stream_rules
from connectors.x.source import TweepySource, XOptions
from connectors.x.transport import TWEEPY_HOST, BaseUrlAdapter, mount_base_url
from connectors.x.tweets import page_mentions, tweet_mention

__all__ = [
    "TAG_PREFIX",
    "TWEEPY_HOST",
    "BaseUrlAdapter",
    "Cursor",
    "KeepAlive",
    "Notice",
    "RulePlan",
    "StreamEvent",
    "TweepySource",
    "TweetLine",
    "XOptions",
    "brand_query",
    "mount_base_url",
    "page_mentions",
    "parse_stream_line",
    "plan_rules",
    "stream_rules",
    "tweet_mention",
]
