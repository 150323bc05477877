"""Users: argon2 password hashing (pwdlib), authentication, demo users (the sign-in's throttle is
``iom.web.throttle``)."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from dataclasses import dataclass

from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.orm import Session

from iom.errors import UserError
from iom.register.models import Unit
from iom.security.models import ROLES, User
from iom.security.roles import LOMU_ROLES
from iom.security.roles import Principal

_hasher = PasswordHash.recommended()
MIN_PASSWORD_LENGTH = 12


@functools.cache
def _dummy_hash() -> str:
    """Hash of a random password, verified against when the user does not exist, so a missing
    username costs the same time as a wrong password (made on first use, not at import)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def principal(user: User) -> Principal:
    return Principal(username=user.username, role=user.role, lomu_code=user.lomu_code, user_id=user.id,
                     session_epoch=user.session_epoch, officer=user.officer)


def lomu_codes(session: Session) -> list[str]:
    return list(session.scalars(select(Unit.code).where(Unit.kind == "lomu").order_by(Unit.code)))


def _check_lomu(session: Session, role: str, lomu_code: str | None) -> str | None:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    if role in LOMU_ROLES:
        if not lomu_code:
            raise UserError(f"a {role} needs --lomu CODE (their LOMU)")
        unit = session.get(Unit, lomu_code)
        if unit is None or unit.kind != "lomu":
            codes = lomu_codes(session)
            raise UserError(f"{lomu_code!r} is not a LOMU; LOMUs are: {', '.join(codes) or 'none loaded (run iom init)'}")
        return lomu_code
    return lomu_code or None


def _check_officer(officer: str | None) -> str | None:
    text = (officer or "").strip()
    if len(text) > 80:
        raise UserError("an officer's name is at most 80 characters")
    return text or None


def link_officer(session: Session, *, username: str, officer: str | None) -> User:
    """Link a user to the officer management records name (None unlinks)."""
    user = get_user(session, username)
    user.officer = _check_officer(officer)
    session.flush()
    return user


def busiest_officer(session: Session, lomu_code: str, as_of) -> str | None:
    """The officer in ``lomu_code`` whose current management records name the most people."""
    from sqlalchemy import func

    from iom.cohorts.models import ManagementRecord
    from iom.security.scope import latest

    managed = latest(ManagementRecord, as_of, ManagementRecord.lomu_code, ManagementRecord.officer).subquery()
    row = session.execute(
        select(managed.c.officer, func.count()).where(managed.c.lomu_code == lomu_code, managed.c.officer.is_not(None))
        .group_by(managed.c.officer).order_by(func.count().desc(), managed.c.officer).limit(1)
    ).first()
    return row[0] if row else None


def check_new_user(session: Session, *, username: str, password: str, role: str, lomu_code: str | None = None,
                   officer: str | None = None) -> str | None:
    """Why this user cannot be added, if they cannot (before anything is recorded); the LOMU."""
    username = username.strip()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").replace("-", "").isalnum():
        raise UserError("a username is 1-64 letters, digits, '.', '_' or '-'")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    _check_officer(officer)
    lomu_code = _check_lomu(session, role, lomu_code)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} already exists")
    return lomu_code


def check_update(session: Session, *, username: str, role: str, lomu_code: str | None, officer: str | None) -> None:
    get_user(session, username)
    _check_lomu(session, role, lomu_code or None)
    _check_officer(officer)


def add_user(session: Session, *, username: str, password: str, role: str, lomu_code: str | None = None,
             officer: str | None = None) -> User:
    lomu_code = check_new_user(session, username=username, password=password, role=role, lomu_code=lomu_code,
                               officer=officer)
    username = username.strip()
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        lomu_code=lomu_code,
        officer=_check_officer(officer),
        active=True,
        session_epoch=0,
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user {username!r}")
    return user


def set_active(session: Session, *, username: str, active: bool) -> User:
    """Deactivate (every session ends at once) or reactivate an account; never deleted, so
    the audit log's names keep meaning something."""
    user = get_user(session, username)
    user.active = active
    if not active:
        user.session_epoch += 1
    session.flush()
    return user


def reset_password(session: Session, *, username: str) -> str:
    """A new random password for the user (shown once to the administrator); every session ends."""
    user = get_user(session, username)
    password = secrets.token_urlsafe(12)
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    session.flush()
    return password


def update_user(session: Session, *, username: str, role: str, lomu_code: str | None, officer: str | None) -> User:
    """Change a user's role, LOMU and officer; their sessions end so the new scope applies."""
    user = get_user(session, username)
    user.lomu_code = _check_lomu(session, role, lomu_code or None)
    user.role = role
    user.officer = _check_officer(officer)
    user.session_epoch += 1
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def default_demo_lomu(session: Session) -> str:
    """The LOMU with most NPUs (Birmingham in the seed force): a busy demo caseload."""
    lomus = session.scalars(select(Unit).where(Unit.kind == "lomu").order_by(Unit.code)).all()
    if not lomus:
        raise UserError("no LOMUs in the database: run `iom init` first")
    npus = session.scalars(select(Unit.parent_code).where(Unit.kind == "npu")).all()
    return max(lomus, key=lambda u: (npus.count(u.code), -ord(u.code[0]))).code


@dataclass
class DemoLogin:
    username: str
    role: str
    lomu_code: str | None
    password: str
    officer: str | None = None


def demo_users(session: Session, *, lomu_code: str | None = None) -> list[DemoLogin]:
    """One user per role with a fresh random password (reset if the user exists)."""
    lomu = lomu_code or default_demo_lomu(session)
    logins = []
    for role in ROLES:
        username = f"demo_{role}"
        password = secrets.token_urlsafe(12)
        user = session.scalar(select(User).where(User.username == username))
        home = lomu if role in LOMU_ROLES else None
        if user is None:
            add_user(session, username=username, password=password, role=role, lomu_code=home)
        else:
            user.password_hash = hash_password(password)
            user.role, user.lomu_code, user.active = role, _check_lomu(session, role, home), True
        logins.append(DemoLogin(username, role, home, password))
    session.flush()
    # The demo offender manager is the LOMU's busiest officer, so "my caseload" shows people.
    from iom.register.service import reference_date

    officer = busiest_officer(session, lomu, reference_date(session))
    link_officer(session, username="demo_offender_manager", officer=officer)
    for login in logins:
        if login.role == "offender_manager":
            login.officer = officer
    return logins


class LoginRefused(UserError):
    """Wrong name or password, or too many recent failures (the message never says which name exists).

    ``audit_each``: whether this refusal gets an audit row of its own, or is counted in a
    summary row instead (the web's throttle decides, ``iom.web.throttle``)."""

    audit_each = True


@dataclass(frozen=True)
class Credentials:
    """What a password is checked against, read and released before the (slow) check, so the
    check holds no database connection."""

    username: str
    password_hash: str | None
    user_id: int | None = None
    active: bool = False
    role: str = "unknown"
    lomu_code: str | None = None
    session_epoch: int = 0
    officer: str | None = None


def credentials(session: Session, *, username: str) -> Credentials:
    """The stored hash and account of ``username`` (an empty one if there is no such user)."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        return Credentials(username=username.strip(), password_hash=None)
    return Credentials(username=user.username, password_hash=user.password_hash, user_id=user.id, active=user.active,
                       role=user.role, lomu_code=user.lomu_code, session_epoch=user.session_epoch, officer=user.officer)


def check_password(found: Credentials, password: str) -> tuple[Principal, str | None]:
    """The user, and a new hash if the stored one uses older parameters; LoginRefused if the
    password is wrong or the account disabled or missing (which costs the same time). Reads
    nothing: it may wait for and spend a core without holding a connection."""
    valid, new_hash = _hasher.verify_and_update(password, found.password_hash or _dummy_hash())
    if found.user_id is None or not valid or not found.active:
        raise LoginRefused("wrong username or password")
    return Principal(username=found.username, role=found.role, lomu_code=found.lomu_code, user_id=found.user_id,
                     session_epoch=found.session_epoch, officer=found.officer), new_hash


def store_rehash(session: Session, *, user_id: int, password_hash: str) -> None:
    """Keep the hash made with the current parameters after a successful sign-in."""
    user = session.get(User, user_id)
    if user is not None:
        user.password_hash = password_hash


def authenticate(session: Session, *, username: str, password: str) -> Principal:
    """The user, if the password is theirs and the account active. Not throttled here: the
    sign-in (``iom.web.throttle``) counts attempts around this check."""
    user, new_hash = check_password(credentials(session, username=username), password)
    if new_hash:
        store_rehash(session, user_id=user.user_id, password_hash=new_hash)
    return user


def load_principal(session: Session, user_id: int, epoch: int | None = None) -> Principal | None:
    """The signed-in user, unless disabled or signed out since the cookie was issued."""
    user = session.get(User, user_id)
    if user is None or not user.active or (epoch is not None and epoch != user.session_epoch):
        return None
    return principal(user)


def end_sessions(session: Session, user_id: int) -> None:
    """Sign out: every cookie issued to this user so far stops working."""
    user = session.get(User, user_id)
    if user is not None:
        user.session_epoch += 1
