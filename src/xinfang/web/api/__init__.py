"""JSON API routers, assembled in xinfang.web.app."""
