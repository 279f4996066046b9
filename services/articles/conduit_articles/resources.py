"""Thin Falcon resources: parse, call one service function, set the response."""
import falcon

from conduit_common.auth import optional_auth, require_auth

from conduit_articles import schemas

# Comment ids are bigints: a larger number in the path is simply not found.
COMMENT_ID = "{comment_id:int(min=1, max=9223372036854775807)}"


def _viewer_id(req) -> int | None:
    identity = req.context.identity
    return identity.user_id if identity else None


def _body(req, schema, envelope: str) -> dict:
    return schemas.load(schema, req.get_media(default_when_empty=None))[envelope]


class ArticleResource:
    """/api/articles (list, create) and /api/articles/{slug} (suffix "item")."""

    def __init__(self, services):
        self._services = services

    @optional_auth
    def on_get(self, req, resp):
        query = schemas.load(schemas.LIST_QUERY, req.params)
        resp.media = self._services.articles(req).list_articles(_viewer_id(req), **query)

    @require_auth
    def on_post(self, req, resp):
        fields = _body(req, schemas.NEW_ARTICLE, "article")
        resp.media = self._services.articles(req).create_article(_viewer_id(req), fields)
        resp.status = falcon.HTTP_201

    @optional_auth
    def on_get_item(self, req, resp, slug):
        resp.media = self._services.articles(req).get_article(slug, _viewer_id(req))

    @require_auth
    def on_put_item(self, req, resp, slug):
        fields = _body(req, schemas.ARTICLE_CHANGES, "article")
        resp.media = self._services.articles(req).update_article(slug, _viewer_id(req), fields)

    @require_auth
    def on_delete_item(self, req, resp, slug):
        self._services.articles(req).delete_article(slug, _viewer_id(req))
        resp.status = falcon.HTTP_204


class FeedResource:
    def __init__(self, services):
        self._services = services

    @require_auth
    def on_get(self, req, resp):
        query = schemas.load(schemas.FEED_QUERY, req.params)
        resp.media = self._services.articles(req).feed(_viewer_id(req), **query)


class FavoriteResource:
    def __init__(self, services):
        self._services = services

    @require_auth
    def on_post(self, req, resp, slug):
        resp.media = self._services.articles(req).favorite(slug, _viewer_id(req))

    @require_auth
    def on_delete(self, req, resp, slug):
        resp.media = self._services.articles(req).unfavorite(slug, _viewer_id(req))


class CommentResource:
    """/api/articles/{slug}/comments and .../comments/{comment_id} (suffix "item")."""

    def __init__(self, services):
        self._services = services

    @optional_auth
    def on_get(self, req, resp, slug):
        resp.media = self._services.comments(req).list_comments(slug, _viewer_id(req))

    @require_auth
    def on_post(self, req, resp, slug):
        body = _body(req, schemas.NEW_COMMENT, "comment")["body"]
        resp.media = self._services.comments(req).add_comment(slug, _viewer_id(req), body)
        resp.status = falcon.HTTP_201

    @require_auth
    def on_delete_item(self, req, resp, slug, comment_id):
        self._services.comments(req).delete_comment(slug, comment_id, _viewer_id(req))
        resp.status = falcon.HTTP_204


class TagResource:
    def __init__(self, services):
        self._services = services

    def on_get(self, req, resp):
        resp.media = self._services.articles(req).tags()


def add_routes(app: falcon.App, services) -> None:
    articles = ArticleResource(services)
    comments = CommentResource(services)
    app.add_route("/api/articles", articles)
    app.add_route("/api/articles/feed", FeedResource(services))
    app.add_route("/api/articles/{slug}", articles, suffix="item")
    app.add_route("/api/articles/{slug}/favorite", FavoriteResource(services))
    app.add_route("/api/articles/{slug}/comments", comments)
    app.add_route(f"/api/articles/{{slug}}/comments/{COMMENT_ID}", comments, suffix="item")
    app.add_route("/api/tags", TagResource(services))
