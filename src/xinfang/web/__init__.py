"""The thin web layer: FastAPI API routers and server-rendered Chinese pages over the services."""
