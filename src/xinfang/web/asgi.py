"""ASGI entry point for uvicorn (`xinfang.web.asgi:app`): settings from the environment."""

from xinfang.config import get_settings
from xinfang.web.app import create_app

app = create_app(get_settings())
