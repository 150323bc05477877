"""What every domain's pages and API endpoints share: the request's database session, the
signed-in user, the stated purpose, the reference date, CSRF, edge types and page rendering.
The app itself (``iom.web``) is the shell that puts the domains' routers together."""
