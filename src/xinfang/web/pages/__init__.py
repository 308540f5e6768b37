"""Server-rendered Chinese pages, one module per area; they call the same services as the API.

login/logout (auth), the registration desk (desk), inboxes and the petition list with XLSX export and bulk actions
(lists), the case page (case), the leadership dashboard (dashboard) and administration (admin). Page JavaScript
(static/js/) calls the JSON API with the session cookie and the CSRF header; form posts carry the CSRF field.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from xinfang.web.pages import admin, auth, case, dashboard, desk, lists
from xinfang.web.pages.common import mark_start

router = APIRouter(include_in_schema=False, dependencies=[Depends(mark_start)])
for module in (auth, desk, lists, case, dashboard, admin):
    router.include_router(module.router)

__all__ = ["router"]
