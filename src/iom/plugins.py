"""The domain registry: how a domain plugs into the command line, the web, the case file,
the importer, the reference data and the synthetic force without edits elsewhere.

A domain is a package ``iom/<name>/`` whose ``__init__.py`` defines ``DOMAIN = Domain(...)``
and whose name is listed once in ``INSTALLED``. Everything a domain contributes is named as a
``"module:attribute"`` string and imported only when used, so ``iom --help`` stays fast and
the web shell never imports a domain it does not serve."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

#: Domain packages in the order their commands, pages and timeline sections appear.
INSTALLED = (
    "iom.register",
    "iom.cohorts",
    "iom.synth",
    "iom.casefile",
    "iom.casework",
    "iom.referrals",
    "iom.mappa",
    "iom.breach",
    "iom.domestic_abuse",
    "iom.diversion",
    "iom.courses",
    "iom.cohort_framework",
    "iom.scoring",
    "iom.notes",
    "iom.analytics",
    "iom.evaluation",
    "iom.reports",
    "iom.security",
    "iom.web",
)


@dataclass(frozen=True)
class RecordPart:
    """A field a domain adds to the person record (``PersonRecord``), built only after scope
    has let the reader through. ``kept`` parts are kept with the record per register version;
    the others (e.g. notes) are read fresh on every view."""

    name: str
    #: The field's type in the API schema, as ``"module:attribute"``.
    schema: str
    #: ``build(ctx: iom.casefile.RecordContext) -> value``, as ``"module:function"``.
    build: str
    default: Any = None
    kept: bool = True
    #: A Jinja template (in the domain's ``templates/``) included in the person page's overview.
    template: str | None = None
    #: A tab of its own on the person page: its label and template.
    label: str | None = None
    tab_template: str | None = None


@dataclass(frozen=True)
class Domain:
    name: str
    #: The package that declared it (set by ``domains()``).
    package: str = ""
    #: ``register(app: typer.Typer)`` functions adding the domain's commands.
    cli: tuple[str, ...] = ()
    #: FastAPI routers (or functions building one with the app): pages and JSON API endpoints.
    routers: tuple[str, ...] = ()
    #: ``events(ctx: RecordContext) -> list[TimelineEvent]``: the domain's part of a timeline,
    #: kept with the record (for data in the register version's tables) ...
    timeline: tuple[str, ...] = ()
    #: ... or read fresh on every view (for data that changes without a version bump).
    live_timeline: tuple[str, ...] = ()
    record_parts: tuple[RecordPart, ...] = ()
    #: ``items(access: Access) -> list[AttentionItem]``: what needs attention, atop the caseload.
    attention: tuple[str, ...] = ()
    #: ``people(session, person_ids, as_of) -> set[int]``: which of these people have restricted
    #: fields on the day because of this domain's records (e.g. a current MAPPA record).
    restricted_people: tuple[str, ...] = ()
    #: ``follow(session, *, referral, on, by)``: called when a referral ends (completed, ended
    #: early or cancelled), in the same change, so what hangs on it (a disposal's condition) follows.
    referral_followers: tuple[str, ...] = ()
    #: ``{kind name: iom.register.importer.Kind}`` for ``iom import``.
    import_kinds: str | None = None
    #: ``list[ReferenceTable]`` loaded by ``iom init``.
    reference_tables: str | None = None
    #: ``step(connection, *, seed, as_of) -> {table: rows}`` run by ``iom synth`` after the base
    #: force is written, in the same transaction.
    synth_steps: tuple[str, ...] = ()
    #: Main navigation entries: ``(path, label, permission)``, shown to users with the permission.
    nav: tuple[tuple[str, str, str], ...] = ()
    #: Jinja filters the domain's templates use: ``(name, "module:function")``.
    template_filters: tuple[tuple[str, str], ...] = ()
    #: Whether the package has a ``templates/`` folder for the web's template loader.
    templates: bool = False


def resolve(target: str) -> Any:
    """The object a ``"module:attribute"`` string names."""
    module, _, attribute = target.partition(":")
    value = importlib.import_module(module)
    for part in attribute.split(".") if attribute else ():
        value = getattr(value, part)
    return value


@cache
def domains() -> tuple[Domain, ...]:
    """Every installed domain's declaration, in ``INSTALLED`` order."""
    found = []
    for package in INSTALLED:
        declared = getattr(importlib.import_module(package), "DOMAIN", None)
        if not isinstance(declared, Domain):
            raise RuntimeError(f"{package} is listed in iom.plugins.INSTALLED but defines no DOMAIN")
        found.append(replace(declared, package=package))
    return tuple(found)


def contributions(attribute: str) -> list[str]:
    """Every domain's ``"module:attribute"`` strings for one hook, in domain order."""
    out: list[str] = []
    for domain in domains():
        value = getattr(domain, attribute)
        if value is None:
            continue
        out.extend(value if isinstance(value, tuple) else (value,))
    return out


def record_parts() -> list[RecordPart]:
    return [part for domain in domains() for part in domain.record_parts]
