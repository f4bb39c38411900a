"""The listening rules schema: per brand, the handles, keywords and hashtags to listen for."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

__all__ = ["BrandRules", "ListeningRules"]

_Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
_Lang = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z]{2}$")
]
_BrandName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")]


def _prefixed(values: list[str], prefix: str, what: str) -> list[str]:
    out = []
    for value in values:
        bare = value.removeprefix(prefix)
        if not bare or any(c.isspace() or c in "@#" for c in bare):
            raise ValueError(f"{what} {value!r} must be one word, e.g. {prefix}contoso")
        out.append(prefix + bare.lower())
    return out


class BrandRules(BaseModel):
    """What counts as a mention of one brand.

    A text matches when it names one of ``handles`` (``@name``), ``hashtags`` (``#tag``) or
    ``keywords`` (whole words or phrases, case-insensitive), contains none of ``exclude``, and
    its language is one of ``languages`` (empty: any; a text of unknown language passes).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    handles: list[_Term] = Field(default_factory=list)
    keywords: list[_Term] = Field(default_factory=list)
    hashtags: list[_Term] = Field(default_factory=list)
    exclude: list[_Term] = Field(default_factory=list)
    languages: list[_Lang] = Field(default_factory=list)

    @field_validator("handles")
    @classmethod
    def _handles(cls, values: list[str]) -> list[str]:
        return _prefixed(values, "@", "handle")

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, values: list[str]) -> list[str]:
        return _prefixed(values, "#", "hashtag")

    @field_validator("keywords", "exclude")
    @classmethod
    def _folded(cls, values: list[str]) -> list[str]:
        return [" ".join(v.lower().split()) for v in values]

    @model_validator(mode="after")
    def _something_to_match(self) -> BrandRules:
        if not (self.handles or self.keywords or self.hashtags):
            raise ValueError("a brand needs at least one handle, keyword or hashtag")
        return self


class ListeningRules(BaseModel):
    """Every brand one deployment listens for, by brand name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    brands: dict[_BrandName, BrandRules] = Field(min_length=1)
