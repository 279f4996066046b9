"""Thin Falcon resources: parse, call one service function, answer."""
from dataclasses import asdict

import falcon

from conduit_auth import events
from conduit_auth.repository import UserRepository
from conduit_auth.schemas import LoginSchema, RegistrationSchema, UserUpdateSchema, load_envelope
from conduit_auth.services import AccountService
from conduit_common.auth import require_auth
from conduit_common.errors import Unprocessable
from conduit_common.events.feed import snapshot_json, snapshot_page, snapshot_query

_registration = RegistrationSchema()
_login = LoginSchema()
_update = UserUpdateSchema()


def _body(req) -> object:
    return req.get_media(default_when_empty=None)


def _client_address(req) -> str:
    """The client as the gateway saw it (the first X-Forwarded-For hop), else the peer.

    Only the gateway reaches the services (NetworkPolicies), so the header is its own.
    """
    return (req.access_route[0] if req.access_route else req.remote_addr or "unknown")[:64]


class UsersResource:
    """POST /api/users (register) and POST /api/users/login (suffix "login")."""

    no_store = True   # answers carry a token

    def __init__(self, service: AccountService):
        self._service = service

    def on_post(self, req, resp):
        data = load_envelope(_registration, _body(req))
        account = self._service.register(UserRepository(req.context.session), **data)
        resp.status = falcon.HTTP_201
        resp.media = {"user": asdict(account)}

    def on_post_login(self, req, resp):
        data = load_envelope(_login, _body(req))
        account = self._service.login(UserRepository(req.context.session), **data,
                                      client=_client_address(req))
        resp.media = {"user": asdict(account)}


class CurrentUserResource:
    """GET and PUT /api/user."""

    no_store = True   # answers carry a token and the account

    def __init__(self, service: AccountService):
        self._service = service

    @require_auth
    def on_get(self, req, resp):
        account = self._service.current(UserRepository(req.context.session),
                                        req.context.identity.user_id, req.context.token,
                                        known=req.context.token_record)
        resp.media = {"user": asdict(account)}

    @require_auth
    def on_put(self, req, resp):
        changes = load_envelope(_update, _body(req))
        account = self._service.update(UserRepository(req.context.session),
                                       req.context.identity.user_id, changes)
        resp.media = {"user": asdict(account)}


class LogoutResource:
    """POST /api/user/logout: every token of the caller stops working (204)."""

    def __init__(self, service: AccountService):
        self._service = service

    @require_auth
    def on_post(self, req, resp):
        self._service.logout(UserRepository(req.context.session), req.context.identity.user_id)
        resp.status = falcon.HTTP_204


class UserSnapshotResource:
    """GET /internal/users/snapshot?after=<id>&limit=N: every user's public state, paged
    by id, for a consumer that fills its copy (then follows /internal/events)."""

    def __init__(self, service: AccountService):
        self._service = service

    def on_get(self, req, resp):
        cursor, limit = snapshot_query(req)
        try:
            after_id = int(cursor or 0)
        except ValueError as ex:
            raise Unprocessable.on_field("after", "must be a user id") from ex
        users = UserRepository(req.context.session)
        page = snapshot_page(req.context.session, events.outbox,
                             lambda _: self._service.snapshot(users, after_id, limit))
        resp.media = snapshot_json(page)
