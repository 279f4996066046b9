"""The JSON shapes of the RealWorld spec, built from rows and profiles."""
import logging

from conduit_articles import messages
from conduit_articles.repository import ArticleRow, CommentRow

log = logging.getLogger("conduit.articles")


def author(profiles: dict[int, dict], author_id: int) -> dict:
    profile = profiles.get(author_id)
    if profile is None:
        log.warning("profiles has no profile for user %s", author_id)
        return {"username": messages.UNKNOWN_AUTHOR, "bio": None, "image": None,
                "following": False}
    return profile


def article(row: ArticleRow, profiles: dict[int, dict]) -> dict:
    document = {
        "slug": row.slug,
        "title": row.title,
        "description": row.description,
        "tagList": row.tag_list,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
        "favorited": row.favorited,
        "favoritesCount": row.favorites_count,
        "author": author(profiles, row.author_id),
    }
    if row.body is not None:   # list items omit the body (spec 1.1.0)
        document["body"] = row.body
    return document


def article_page(rows: list[ArticleRow], total: int, profiles: dict[int, dict]) -> dict:
    return {"articles": [article(row, profiles) for row in rows], "articlesCount": total}


def comment(row: CommentRow, profiles: dict[int, dict]) -> dict:
    return {
        "id": row.id,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
        "body": row.body,
        "author": author(profiles, row.author_id),
    }
