"""The inbox: where employees act on their assignments and team leads watch coverage."""

from workers.inbox.app import create_app
from workers.inbox.context import Inbox
from workers.inbox.follower import Follower
from workers.inbox.people import People, Person, load_leads
from workers.inbox.readmodel import InboxModel, Item
from workers.inbox.tokens import TokenStore

__all__ = [
    "Follower",
    "Inbox",
    "InboxModel",
    "Item",
    "People",
    "Person",
    "TokenStore",
    "create_app",
    "load_leads",
]
