"""The offender register: people, offences, units, crimes; CSV import and Parquet export."""

from iom.plugins import Domain

DOMAIN = Domain(
    name="register",
    cli=("iom.register.cli:register", "iom.register.io_cli:register"),
    import_kinds="iom.register.importer:KINDS",
    reference_tables="iom.register.reference_tables:REFERENCE_TABLES",
)
