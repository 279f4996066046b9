"""Pure rules of the articles context: slugs, tags, who may change what."""
import re
import secrets
import string
import unicodedata
from collections.abc import Callable, Iterable, Iterator

from conduit_common.errors import Forbidden

MAX_SLUG_BASE_LENGTH = 80
SUFFIX_LENGTH = 6
_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# /api/articles/feed is a route of its own, so no article may be called "feed".
RESERVED_SLUGS = frozenset({"feed"})


def slugify(title: str) -> str:
    """'How to train your Dragon!' -> 'how-to-train-your-dragon' (ASCII, never empty)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_title.lower()).strip("-")
    slug = slug[:MAX_SLUG_BASE_LENGTH].rstrip("-")
    return slug or "article"


def random_suffix() -> str:
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))


def slug_candidates(title: str, suffix: Callable[[], str] = random_suffix,
                    attempts: int = 5) -> Iterator[str]:
    """The plain slug first, then the slug with a short random suffix."""
    base = slugify(title)
    if base not in RESERVED_SLUGS:
        yield base
    for _ in range(attempts - 1):
        yield f"{base}-{suffix()}"


def normalize_tags(tags: Iterable[str] | None) -> list[str]:
    """Trimmed, without blanks or duplicates, sorted alphabetically."""
    return sorted({tag.strip() for tag in tags or () if tag.strip()})


def ensure_author(owner_id: int, user_id: int, message: str) -> None:
    """Only the owner may change or delete what they wrote."""
    if owner_id != user_id:
        raise Forbidden(message)
