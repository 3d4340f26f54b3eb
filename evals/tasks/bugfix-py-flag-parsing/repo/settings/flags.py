"""Feature flags read from environment-style strings."""

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def parse_flag(raw: str | None, default: bool = False) -> bool:
    """Reads a flag value such as "true", "Off" or " 1 "; an empty or missing value gives the default."""
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ValueError(f"not a flag value: {raw!r}")


def flags_from(environ: dict[str, str], names: list[str]) -> dict[str, bool]:
    """Every named flag, parsed from the environment."""
    return {name: parse_flag(environ.get(name)) for name in names}
