"""Server-rendered pages. No business logic: pages call the same services as the API."""
