"""Rules a force would change (pathways, intervals, eligibility, panel schedules) as
versioned TOML files shipped in ``iom/<domain>/data/``, and the one way they are read.

Every file names its ``version`` and its ``source``. A force overrides a file by putting one
of the same name in the folder the setting ``IOM_RULES_DIR`` names; nothing else changes."""

from __future__ import annotations

import os
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from iom.config import Settings
from iom.errors import UserError

M = TypeVar("M", bound="RuleFile")


class RuleRow(BaseModel):
    """A part of a rule file: unknown keys are refused (a misspelt rule is never ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleFile(RuleRow):
    """What every rule file carries: which version it is and where its numbers come from."""

    version: str
    source: str


def rule_path(domain: str, name: str) -> Path:
    """The force's own copy if ``IOM_RULES_DIR`` holds one, else the shipped file."""
    return _rule_path(os.environ.get("IOM_RULES_DIR"), domain, name)


@cache
def _rule_path(environment: str | None, domain: str, name: str) -> Path:
    """Found once per setting (a page reads a score of rule files; each is read once anyway)."""
    own = _rules_dir(environment)
    if own is not None and (Path(own) / name).is_file():
        return Path(own) / name
    return Path(str(resources.files(f"iom.{domain}").joinpath("data", name)))


@cache
def _rules_dir(_environment: str | None) -> str | Path | None:
    """The setting, read once per value of the environment variable (rules are read in loops)."""
    return Settings().rules_dir


def load_rules(model: type[M], domain: str, name: str) -> M:
    """The rule file ``name`` of ``domain``, validated by ``model`` (cached per path)."""
    return _load(model, rule_path(domain, name))


@cache
def _load(model: type[M], path: Path) -> M:
    try:
        return model.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise UserError(f"cannot read the rule file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors())
        raise UserError(f"{path} is not a valid rule file: {problems}") from None
