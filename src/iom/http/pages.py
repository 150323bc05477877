"""Page rendering: one Jinja environment over the shell's base templates and every domain's
``templates/`` folder (``Domain.templates``), so a domain's pages extend ``base.html``."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from iom import formatting
from iom.http.deps import as_of, csrf_token
from iom.plugins import domains, resolve
from iom.security.roles import Principal


@cache
def templates() -> Jinja2Templates:
    folders = [str(resources.files(d.package) / "templates") for d in domains() if d.templates]
    env = Environment(loader=ChoiceLoader([FileSystemLoader(f) for f in folders]), autoescape=select_autoescape())
    env.globals["navigation"] = [entry for d in domains() for entry in d.nav]
    for d in domains():
        for name, target in d.template_filters:
            env.filters[name] = resolve(target)
    env.filters.update(pounds=formatting.pounds, percent=formatting.percent, probability=formatting.probability,
                       long_date=formatting.long_date)
    return Jinja2Templates(env=env)


def render(request: Request, name: str, user: Principal | None, status_code: int = 200, **context) -> HTMLResponse:
    context.update(user=user, csrf=csrf_token(request), as_of=as_of(request),
                   purpose=request.session.get("purpose"))
    kept = request.app.state.drafts.take(request, user.user_id) if user is not None else {}
    if kept:
        context["drafts"] = {**kept, **context.get("drafts", {})}
        context["kept_notice"] = "You were signed out before that was saved: what you had typed is below. Check it and send it again."
    context.setdefault("drafts", {})
    return templates().TemplateResponse(request, name, context, status_code=status_code)
