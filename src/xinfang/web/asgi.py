"""ASGI entry point for uvicorn (`xinfang.web.asgi:app`): settings from the environment, JSON logs (ops.logs)."""

from xinfang.config import get_settings
from xinfang.ops.logs import configure_logging
from xinfang.web.app import create_app

settings = get_settings()
configure_logging(settings)  # each uvicorn worker process imports this module once
app = create_app(settings)
