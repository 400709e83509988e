"""The local REST API over the core: the guide's deployment API, with a bearer token on every request.

``create_app(ApiSettings)`` builds the ASGI app; ``server.serve`` runs it with uvicorn.
"""
