"""Authentication (password login → bearer token) and authorisation (who may see and do what)."""
