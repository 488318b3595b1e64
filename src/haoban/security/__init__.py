"""Security at the edge of the app: what every request must pass before a route sees it.

``edge`` refuses control characters and oversized bodies; the HTTP-level rules (headers, CSRF) and
the OpenAPI declaration of the statuses these checks can return live beside it. Nothing here knows
any domain: it stands just above the foundations.
"""
