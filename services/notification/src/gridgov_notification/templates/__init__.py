"""Message templates (消息模板): Chinese subject and body per event type and channel, kept as data.

``messages.toml`` holds one table per ``[<event type or "default">.<channel>]`` with ``subject`` and ``body``,
written with ``string.Template`` placeholders (``$ticket_id``, ``${category}``). The book is loaded and checked
once at start-up: a malformed file, a missing default, or an unknown placeholder fails with the template named,
so a typo never reaches a citizen's phone at night.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

DEFAULT = "default"
# Everything a template may say: the notice the rules wrote and the ticket facts around it.
PLACEHOLDERS = frozenset({
    "title", "body", "ticket_id", "report_id", "event_type", "category", "place", "deadline", "note",
    "department", "priority", "address",
})


class TemplateError(ValueError):
    """A template that cannot be used; the message names it."""


@dataclass(frozen=True)
class MessageTemplate:
    """The subject and body of one event type on one channel."""

    name: str  # "<event type>/<channel>", e.g. "ticket.dispatched/sms" or "default/email"
    subject: Template
    body: Template

    def render(self, context: Mapping[str, str]) -> tuple[str, str]:
        """The subject and body with the placeholders filled in."""
        return self.subject.substitute(context).strip(), self.body.substitute(context).strip()


def _compile(name: str, part: str, text: object) -> Template:
    if not isinstance(text, str):
        raise TemplateError(f"template {name}: {part} must be a string")
    template = Template(text)
    if not template.is_valid():
        raise TemplateError(f"template {name}: {part} has a malformed placeholder (a lone $? write $$ for $)")
    unknown = sorted(set(template.get_identifiers()) - PLACEHOLDERS)
    if unknown:
        raise TemplateError(f"template {name}: {part} has unknown placeholder(s) "
                            f"{', '.join('$' + u for u in unknown)}; known: {', '.join(sorted(PLACEHOLDERS))}")
    return template


class TemplateBook:
    """Every template, looked up by event type and channel, falling back to the channel's default."""

    def __init__(self, templates: dict[tuple[str, str], MessageTemplate]):
        self._templates = templates

    def get(self, event_type: str, channel: str) -> MessageTemplate:
        """The template of this event type on this channel, or the channel's default."""
        return self._templates.get((event_type, channel)) or self._templates[(DEFAULT, channel)]

    @classmethod
    def parse(cls, text: str, channels: Iterable[str], source: str = "messages.toml") -> TemplateBook:
        """Parse and check a template file's text; raises TemplateError naming the bad template."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise TemplateError(f"templates {source}: not valid TOML: {exc}") from exc
        channels = set(channels)
        templates: dict[tuple[str, str], MessageTemplate] = {}
        for event_type, per_channel in data.items():
            if not isinstance(per_channel, dict):
                raise TemplateError(f"template {event_type}: expected a table per channel")
            for channel, parts in per_channel.items():
                name = f"{event_type}/{channel}"
                if channel not in channels:
                    raise TemplateError(f"template {name}: unknown channel {channel!r}")
                if not isinstance(parts, dict) or "body" not in parts:
                    raise TemplateError(f"template {name}: needs a body")
                extra = sorted(set(parts) - {"subject", "body"})
                if extra:
                    raise TemplateError(f"template {name}: unknown key(s) {', '.join(extra)}")
                templates[(event_type, channel)] = MessageTemplate(
                    name, _compile(name, "subject", parts.get("subject", "")), _compile(name, "body", parts["body"]))
        missing = sorted(c for c in channels if (DEFAULT, c) not in templates)
        if missing:
            raise TemplateError(f"templates {source}: no default template for channel(s) {', '.join(missing)}")
        return cls(templates)

    @classmethod
    def load(cls, channels: Iterable[str], path: Path | None = None) -> TemplateBook:
        """Load the bundled ``messages.toml`` (or ``path``) and check it."""
        if path is None:
            text = resources.files(__name__).joinpath("messages.toml").read_text(encoding="utf-8")
            return cls.parse(text, channels)
        return cls.parse(path.read_text(encoding="utf-8"), channels, str(path))
