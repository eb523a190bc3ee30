"""FastAPI dependencies: `ViewerDep`, `MemberDep`, `ManagerDep`, `AdminDep`.

Each resolves the bearer key to a `Principal` (401 if missing, malformed, unknown or
revoked) and checks the role (403 if too low). Partnership scoping is the service's job:
it answers 404 for partnerships the principal cannot see, so their existence is not leaked.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from review_engine.auth.models import Principal, Role
from review_engine.auth.service import authenticate, principal_for
from review_engine.db import SessionDep, read_apart
from review_engine.errors import Forbidden, Unauthorized

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="re_<key_id>_<secret>",
    description="An API key issued with `review-engine keys create`, sent as a bearer token.",
)

# Keys sent in a URL end up in access logs and browser history; refuse them outright.
QUERY_KEY_PARAMS = frozenset({"api_key", "apikey", "access_token", "token", "authorization"})


def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """Authenticate the request's bearer API key."""
    if any(name.lower() in QUERY_KEY_PARAMS for name in request.query_params):
        raise Unauthorized("Send the API key in the Authorization header, never in the URL.")
    if credentials is None:
        raise Unauthorized("An `Authorization: Bearer <API key>` header is required.")
    usage = request.app.state.key_usage
    with read_apart(session):  # no write lock held for the key's lookup
        api_key = authenticate(session=session, raw_key=credentials.credentials, usage=usage)
        principal = principal_for(api_key) if api_key is not None else None
    if principal is None:
        raise Unauthorized("The API key is not valid.")
    return principal


def _requires(minimum: Role) -> Callable[[Principal], Principal]:
    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.at_least(minimum):
            raise Forbidden(f"This action needs the {minimum.value} role or higher.")
        return principal

    dependency.__name__ = f"require_{minimum.value}"
    return dependency


require_viewer = _requires(Role.VIEWER)
require_member = _requires(Role.MEMBER)
require_manager = _requires(Role.MANAGER)
require_admin = _requires(Role.ADMIN)

ViewerDep = Annotated[Principal, Depends(require_viewer)]
MemberDep = Annotated[Principal, Depends(require_member)]
ManagerDep = Annotated[Principal, Depends(require_manager)]
AdminDep = Annotated[Principal, Depends(require_admin)]
