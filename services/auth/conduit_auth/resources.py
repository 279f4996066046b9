"""Thin Falcon resources: parse, call one service function, answer."""
from dataclasses import asdict

import falcon

from conduit_auth.repository import UserRepository
from conduit_auth.schemas import (InternalUsersQuery, LoginSchema, RegistrationSchema,
                                  UserUpdateSchema, load_envelope)
from conduit_auth.services import AccountService
from conduit_common.auth import require_auth

_registration = RegistrationSchema()
_login = LoginSchema()
_update = UserUpdateSchema()
_internal_query = InternalUsersQuery()


def _body(req) -> object:
    return req.get_media(default_when_empty=None)


class UsersResource:
    """POST /api/users (register) and POST /api/users/login (suffix "login")."""

    def __init__(self, service: AccountService):
        self._service = service

    def on_post(self, req, resp):
        data = load_envelope(_registration, _body(req))
        account = self._service.register(UserRepository(req.context.session), **data)
        resp.status = falcon.HTTP_201
        resp.media = {"user": asdict(account)}

    def on_post_login(self, req, resp):
        data = load_envelope(_login, _body(req))
        account = self._service.login(UserRepository(req.context.session), **data)
        resp.media = {"user": asdict(account)}


class CurrentUserResource:
    """GET and PUT /api/user."""

    def __init__(self, service: AccountService):
        self._service = service

    @require_auth
    def on_get(self, req, resp):
        account = self._service.current(UserRepository(req.context.session),
                                        req.context.identity.user_id, req.context.token)
        resp.media = {"user": asdict(account)}

    @require_auth
    def on_put(self, req, resp):
        changes = load_envelope(_update, _body(req))
        account = self._service.update(UserRepository(req.context.session),
                                       req.context.identity.user_id, changes)
        resp.media = {"user": asdict(account)}


class InternalUsersResource:
    """GET /internal/users?id=..&username=..: for profiles and articles only."""

    def __init__(self, service: AccountService):
        self._service = service

    def on_get(self, req, resp):
        query = _internal_query.load({
            "id": req.get_param_as_list("id") or [],
            "username": req.get_param_as_list("username") or [],
        })
        users = self._service.find(UserRepository(req.context.session),
                                   ids=query["id"], usernames=query["username"])
        resp.media = {"users": [asdict(user) for user in users]}
