"""Server-rendered Chinese pages, one module per area; they call the same services as the API.

login/logout with the optional TOTP step (auth), the account security page (account), the registration desk
(desk), inboxes and the petition list with XLSX export and bulk actions
(lists), the case page (case), the leadership dashboard (dashboard), administration (admin) and the user's
in-app messages (notifications). Page JavaScript
(static/js/) calls the JSON API with the session cookie and the CSRF header; form posts carry the CSRF field.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from xinfang.web.pages import account, admin, alerts, auth, case, dashboard, desk, lists, notifications
from xinfang.web.pages.common import mark_start

router = APIRouter(include_in_schema=False, dependencies=[Depends(mark_start)])
for module in (auth, account, desk, lists, case, dashboard, alerts, admin, notifications):
    router.include_router(module.router)

__all__ = ["router"]
