"""Referrals to partners and providers: the directory with its eligibility rules, and each
referral's lifecycle (sent, accepted, sessions, completed or ended)."""

from iom.plugins import Domain

DOMAIN = Domain(name="referrals")
