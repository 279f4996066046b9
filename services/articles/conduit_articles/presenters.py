"""The JSON shapes of the RealWorld spec, built from rows."""
import logging

from conduit_articles import messages
from conduit_articles.repository import ArticleRow, Author

log = logging.getLogger("conduit.articles")


def author(user: Author | None, user_id: int) -> dict:
    if user is None or user.username is None:
        # The read model has not (yet) got this user: the projector is behind.
        log.warning("no user %s in the users read model", user_id)
        return {"username": messages.UNKNOWN_AUTHOR, "bio": None, "image": None,
                "following": False}
    return {"username": user.username, "bio": user.bio, "image": user.image,
            "following": user.following}


def article(row: ArticleRow) -> dict:
    document = {
        "slug": row.slug,
        "title": row.title,
        "description": row.description,
        "tagList": row.tag_list,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
        "favorited": row.favorited,
        "favoritesCount": row.favorites_count,
        "author": author(row.author, row.author_id),
    }
    if row.body is not None:   # list items omit the body (spec 1.1.0)
        document["body"] = row.body
    return document


def article_page(rows: list[ArticleRow], total: int) -> dict:
    return {"articles": [article(row) for row in rows], "articlesCount": total}


def comment(values: dict, user: Author | None) -> dict:
    return {
        "id": values["id"],
        "createdAt": values["created_at"],
        "updatedAt": values["updated_at"],
        "body": values["body"],
        "author": author(user, values["author_id"]),
    }
