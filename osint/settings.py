"""Settings from the environment (``OSINT_*``, optionally a ``.env`` file) and the YAML configs.

Settings are built once by the CLI and passed down; nothing reads the environment at
import time, so tests can build their own ``Settings`` without touching ``os.environ``.
"""

from __future__ import annotations

import copy
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError
from .models import CountryProfile, DesksFile, FeedsFile

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The checkout this package lives in: templates/ and prompts/ are found beside it."""


class Settings(BaseSettings):
    """Every knob an operator sets, read from ``OSINT_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="OSINT_", env_file=".env", extra="ignore")

    db: Path = Path("data/osint.db")
    feeds: Path = Path("feeds.yaml")
    desks: Path | None = None
    """A desks file: several countries' reports from one installation (``osint run`` runs them all)."""
    timezone: str = "Asia/Ulaanbaatar"
    allow_private_networks: str = ""
    templates_dir: Path = PROJECT_ROOT / "templates"
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    out: Path = Path("reports")
    user_agent: str = "osint-report/0.1 (weekly country security brief; polite crawler)"
    politeness_delay: float = 0.5
    """Seconds between two requests to the same host."""

    smtp_host: str | None = None
    smtp_port: int | None = None
    """Default by ``smtp_security``: 25 for none, 587 for starttls, 465 for ssl."""
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_ca_file: Path | None = None
    """A CA bundle (PEM) to trust for the mail server's certificate, e.g. a company CA."""
    smtp_timeout: float = 60.0
    mail_from: str | None = None
    mail_to: str = ""
    mail_mode: Literal["to", "bcc"] = "bcc"
    """``bcc``: recipients do not see each other (To: undisclosed-recipients); ``to``: they do."""
    mail_attempts: int = 4
    """Tries per send when the server is unreachable or answers 4xx (421, 451 ...)."""
    mail_retry_delay: float = 30.0
    """Seconds before the second try; doubled before each further one."""
    reports_url: str | None = None
    """Public URL of the reports directory, if it is served: used in the feed and in mail."""
    review: Literal["off", "required"] = "off"
    """``required``: nothing is emailed before an editor approves the period in the desk."""
    review_to: str = ""
    """Comma-separated addresses told (with a link) that a draft awaits review."""
    desk_url: str | None = None
    """The desk's public URL (``https://...`` when it is served behind TLS): links in mail."""
    schedule: str = "0 6 * * MON"
    week_end: str = "sunday"
    """The weekday a weekly report's period ends on (Monday–Sunday by default)."""

    engine: Literal["extractive", "llm"] = "extractive"
    """The analysis engine of ``osint run`` and ``osint schedule`` (``--engine`` overrides it)."""
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 120.0
    """Seconds the LLM endpoint may stay silent (before the first token, between chunks)."""
    llm_context: int = 8192
    """The model's context in tokens; prompts are cut to fit (the server's figure if smaller)."""
    llm_budget: float = 1200.0
    """Seconds the model may spend on one report; what is left then is written extractively."""
    llm_concurrency: int = 1
    """Requests in flight at once: 1 for a local CPU server, more for one that batches (vLLM)."""

    def with_overrides(self, **values: object) -> Settings:
        """These settings with the command line's options applied (``None``: not given).

        The one place a command's ``--db``, ``--feeds``, ``--out`` or ``--engine`` meets the
        environment's value, so no code below the CLI writes ``x or settings.x``.
        """
        given = {k: v for k, v in values.items() if v is not None}
        unknown = sorted(set(given) - set(type(self).model_fields))
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        return self.model_copy(update=given)

    def zone(self) -> ZoneInfo:
        """The report's time zone; ``--from/--to`` dates are days in it."""
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"OSINT_TIMEZONE: unknown time zone {self.timezone!r}") from exc

    def network_policy(self) -> NetworkPolicy:
        return NetworkPolicy.parse(self.allow_private_networks)

    def recipients(self) -> list[str]:
        return [a.strip() for a in self.mail_to.split(",") if a.strip()]

    def mail_configured(self) -> bool:
        """Whether ``osint run`` should email: a server and someone to send to."""
        return bool(self.smtp_host and self.recipients())


@dataclass(frozen=True)
class NetworkPolicy:
    """Which internal addresses a fetch may reach (``OSINT_ALLOW_PRIVATE_NETWORKS``).

    Off by default: only public addresses. ``true`` allows every address; a comma list of
    host names and CIDRs allows just those, so a demo or a test can open 127.0.0.1
    without opening the whole private network.
    """

    allow_all: bool = False
    hosts: frozenset[str] = field(default_factory=frozenset)
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def parse(cls, value: str) -> NetworkPolicy:
        text = (value or "").strip()
        if text.lower() in ("", "false", "0", "no", "off"):
            return cls()
        if text.lower() in ("true", "1", "yes", "on", "all"):
            return cls(allow_all=True)
        hosts: set[str] = set()
        nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            try:
                nets.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                if not all(c.isalnum() or c in ".-_" for c in part):
                    raise ConfigError(
                        f"OSINT_ALLOW_PRIVATE_NETWORKS: {part!r} is neither a host nor a CIDR"
                    ) from None
                hosts.add(part.lower())
        return cls(hosts=frozenset(hosts), networks=tuple(nets))

    def allows(self, host: str, address: str) -> bool:
        """Whether ``address`` (which ``host`` resolved to) may be connected to."""
        ip = ipaddress.ip_address(address)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_global and not ip.is_multicast:
            return True
        if self.allow_all or host.lower() in self.hosts:
            return True
        return any(ip in net for net in self.networks if net.version == ip.version)


def _read_yaml(path: Path, what: str) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot read ({exc.strerror or exc})") from exc
    try:
        # The C loader when PyYAML has it: the pure-Python one takes ~0.3 s on a country profile.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(text, Loader=loader)  # a safe loader either way
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} {path}: not valid YAML ({exc})") from exc


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def load_feeds(path: Path) -> FeedsFile:
    """Load and validate ``feeds.yaml`` (unknown keys and duplicate names are errors)."""
    data = _read_yaml(path, "feeds file")
    try:
        feeds = FeedsFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"feeds file {path}: {_validation_message(exc)}") from exc
    names = [s.name for s in feeds.sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"feeds file {path}: duplicate source names: {', '.join(dupes)}")
    return feeds


def profile_path(feeds_path: Path, feeds: FeedsFile) -> Path:
    """The country profile named by a feeds file, relative to that file."""
    p = Path(feeds.country)
    return p if p.is_absolute() else (feeds_path.parent / p)


def _merge_terms(base: object, own: object) -> dict[str, object]:
    """Weighted terms per language, the country's over the shared: its weight wins, and a
    weight of ``null`` drops a shared term."""
    merged: dict[str, object] = copy.deepcopy(base) if isinstance(base, dict) else {}
    for language, terms in (own if isinstance(own, dict) else {}).items():
        dest = merged.setdefault(language, {})
        if not isinstance(dest, dict) or not isinstance(terms, dict):
            merged[language] = terms  # let validation name the error
            continue
        for term, weight in terms.items():
            if weight is None:
                dest.pop(term, None)
            else:
                dest[term] = weight
    return merged


def _merge_taxonomy(base: object, own: object) -> dict[str, object]:
    """The shared taxonomy with one country's additions, bucket by bucket: its label and
    description when it gives them, its terms and negatives merged over the shared ones."""
    merged: dict[str, object] = copy.deepcopy(base) if isinstance(base, dict) else {}
    for bucket, spec in (own if isinstance(own, dict) else {}).items():
        target = merged.setdefault(bucket, {})
        if not isinstance(spec, dict) or not isinstance(target, dict):
            merged[bucket] = spec  # let validation name the error
            continue
        for key, value in spec.items():
            target[key] = _merge_terms(target.get(key), value) if key in ("terms", "negative") else value
    return merged


def _merge_keyed_terms(base: object, own: object) -> dict[str, object]:
    """Terms by key and language (kinds of event, topics): the country's words added to the
    shared ones."""
    merged: dict[str, object] = copy.deepcopy(base) if isinstance(base, dict) else {}
    for kind, table in (own if isinstance(own, dict) else {}).items():
        target = merged.setdefault(kind, {})
        if not isinstance(table, dict) or not isinstance(target, dict):
            merged[kind] = table  # let validation name the error
            continue
        for language, terms in table.items():
            dest = target.setdefault(language, [])
            both_lists = isinstance(dest, list) and isinstance(terms, list)
            target[language] = [*dest, *terms] if both_lists else terms
    return merged


SHARED_VOCABULARY = {
    "taxonomy": _merge_taxonomy,
    "outside": _merge_terms,
    "topics": _merge_keyed_terms,
    "events": _merge_keyed_terms,
}
"""What a profile with ``taxonomy_from`` takes from the other: the buckets, the vocabulary
of news outside them, what events are about and the words that announce each kind."""


def load_profile(path: Path) -> CountryProfile:
    """Load and validate a country profile with its taxonomy.

    A profile may share another's taxonomy (``taxonomy_from: mongolia.yaml``) and list
    only what is particular to its country; the two are merged here, one level deep.
    """
    data = _read_yaml(path, "country profile")
    if isinstance(data, dict) and data.get("taxonomy_from"):
        base_path = path.parent / str(data["taxonomy_from"])
        base = _read_yaml(base_path, "shared taxonomy")
        if not isinstance(base, dict) or not isinstance(base.get("taxonomy"), dict):
            raise ConfigError(f"country profile {path}: {base_path} has no taxonomy to share")
        if base.get("taxonomy_from"):
            raise ConfigError(
                f"country profile {path}: {base_path} itself shares a taxonomy (only one level)"
            )
        for key, merge in SHARED_VOCABULARY.items():
            data[key] = merge(base.get(key), data.get(key))
    try:
        return CountryProfile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"country profile {path}: {_validation_message(exc)}") from exc


def load_desks(path: Path) -> DesksFile:
    """Load and validate a desks file: unique desk names and output directories."""
    data = _read_yaml(path, "desks file")
    try:
        desks = DesksFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"desks file {path}: {_validation_message(exc)}") from exc
    for what, values in (
        ("desk names", [d.name for d in desks.desks]),
        ("output directories", [str((path.parent / d.out).resolve()) for d in desks.desks]),
    ):
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise ConfigError(f"desks file {path}: duplicate {what}: {', '.join(dupes)}")
    return desks
