"""The local REST API over the core (docs/interface.md), with a bearer token on every request.

``create_app(ApiSettings)`` builds the ASGI app; ``server.serve`` runs it with uvicorn.
"""
