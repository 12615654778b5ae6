"""Write `gardener/secret_patterns.py` from the installed detect-secrets.

    .venv/bin/python scripts/sync_secret_patterns.py          # rewrite the module
    .venv/bin/python scripts/sync_secret_patterns.py --check  # exit 1 if it is out of date

`gardener.redact_rules` builds its rules from detect-secrets' detector regexes, but importing
detect-secrets costs ~0.25 s at start-up (its plugins import `requests`, its package imports the
scanner), so the runtime reads copies of them from the generated module instead.
`tests/test_redact.py` compares the module with what `render()` gives now, so an upgrade of
detect-secrets fails the tests until this script is run and the diff reviewed.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.metadata
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "gardener" / "secret_patterns.py"
COMMAND = "python scripts/sync_secret_patterns.py"

# The detectors `gardener.redact_rules` takes token regexes from: (module under
# `detect_secrets.plugins`, class).
DETECTORS: tuple[tuple[str, str], ...] = (
    ("aws", "AWSKeyDetector"),
    ("discord", "DiscordBotTokenDetector"),
    ("github_token", "GitHubTokenDetector"),
    ("gitlab_token", "GitLabTokenDetector"),
    ("mailchimp", "MailchimpDetector"),
    ("openai", "OpenAIDetector"),
    ("pypi_token", "PypiTokenDetector"),
    ("sendgrid", "SendGridDetector"),
    ("slack", "SlackDetector"),
    ("square_oauth", "SquareOAuthDetector"),
    ("stripe", "StripeDetector"),
    ("telegram_token", "TelegramBotTokenDetector"),
    ("twilio", "TwilioKeyDetector"),
)
# Spelled out, in this order, so the text does not depend on how a Python version prints flags.
# re.UNICODE is left out: every str pattern has it.
_FLAGS: tuple[str, ...] = ("ASCII", "IGNORECASE", "LOCALE", "MULTILINE", "DOTALL", "VERBOSE")
_BEGIN = "BEGIN "
_LINE_LENGTH = 100  # ruff's, in pyproject.toml


def _plugin(module: str) -> Any:
    return importlib.import_module(f"detect_secrets.plugins.{module}")


def collect() -> dict[str, Any]:
    """The values the generated module holds, read from the installed detect-secrets."""
    patterns: dict[str, tuple[tuple[str, int], ...]] = {}
    for module, name in sorted(DETECTORS, key=lambda d: d[1]):
        detector = getattr(_plugin(module), name)
        # Order kept: one rule per regex, and rule order breaks ties between equal matches.
        patterns[name] = tuple((p.pattern, p.flags & ~re.UNICODE) for p in detector.denylist)
    private_key = _plugin("private_key").PrivateKeyDetector
    headers = sorted(p.pattern.removeprefix(_BEGIN) for p in private_key.denylist
                     if p.pattern.startswith(_BEGIN))
    keywords = sorted(_plugin("keyword").DENYLIST)
    return {"DETECTOR_PATTERNS": patterns, "PRIVATE_KEY_HEADERS": tuple(headers),
            "SECRET_KEYWORDS": tuple(keywords)}


def _literal(text: str) -> str:
    """A Python literal for `text`: plain, else raw (regexes read as written), else repr()."""
    candidates: tuple[str, ...] = (f'r"{text}"', f"r'{text}'") if "\\" in text else (f'"{text}"',)
    for candidate in (*candidates, repr(text)):
        try:
            if ast.literal_eval(candidate) == text:
                return candidate
        except (SyntaxError, ValueError):
            continue
    raise AssertionError("repr() is always a literal")


def _flags(flags: int) -> str:
    names = [f"re.{name}" for name in _FLAGS if flags & re.RegexFlag[name]]
    rest = flags & ~sum(re.RegexFlag[name] for name in _FLAGS)
    if rest:
        raise ValueError(f"unexpected regex flags {rest:#x}")
    return " | ".join(names) or "0"


def _pattern_line(pattern: str, flags: int) -> list[str]:
    """One `(pattern, flags),` entry, split over lines when it would be too long."""
    line = f"        ({_literal(pattern)}, {_flags(flags)}),"
    if len(line) <= _LINE_LENGTH:
        return [line]
    literal = f"            {_literal(pattern)},"
    if len(literal) > _LINE_LENGTH:
        literal += "  # noqa: E501"
    return ["        (", literal, f"            {_flags(flags)},", "        ),"]


def render() -> str:
    """The text of `gardener/secret_patterns.py` for the installed detect-secrets."""
    version = importlib.metadata.version("detect-secrets")
    data = collect()
    modules = {name: module for module, name in DETECTORS}
    body = ["DETECTOR_PATTERNS: Final[dict[str, tuple[tuple[str, int], ...]]] = {"]
    for name, patterns in data["DETECTOR_PATTERNS"].items():
        body += [f"    # detect_secrets.plugins.{modules[name]}.{name}", f'    "{name}": (']
        for pattern, flags in patterns:
            body += _pattern_line(pattern, flags)
        body.append("    ),")
    body.append("}")
    for const in ("PRIVATE_KEY_HEADERS", "SECRET_KEYWORDS"):
        body += ["", f"{const}: Final[tuple[str, ...]] = ("]
        body += [f"    {_literal(value)}," for value in data[const]]
        body.append(")")
    header = [
        f"# Generated by `{COMMAND}` from detect-secrets {version}; do not edit.",
        "# To update: upgrade detect-secrets, run the command, review the diff.",
        "#",
        "# The patterns are copied from detect-secrets by Yelp, Inc.",
        "# (https://github.com/Yelp/detect-secrets), licensed under the Apache License 2.0;",
        "# its plugins/private_key.py credits pre-commit-hooks (MIT) for the private-key check.",
        '"""Secret patterns from detect-secrets, copied so that the runtime does not import it.',
        "",
        "DETECTOR_PATTERNS: each detector's `denylist` regexes as (pattern, flags), in its order.",
        'PRIVATE_KEY_HEADERS: PEM names after "BEGIN " in `PrivateKeyDetector.denylist`.',
        "SECRET_KEYWORDS: `detect_secrets.plugins.keyword.DENYLIST`: words in keys that name",
        "secrets (`_?`: an optional `_`).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *(["import re"] if any(" re." in line for line in body) else []),
        "from typing import Final",
        "",
        f"DETECT_SECRETS_VERSION: Final = {_literal(version)}",
        "",
    ]
    return "\n".join([*header, *body]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 if {TARGET.relative_to(ROOT)} is out of date")
    args = parser.parse_args(argv)
    text = render()
    current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else None
    if args.check:
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    if current != text:
        TARGET.write_text(text, encoding="utf-8")
        print(f"wrote {TARGET.relative_to(ROOT)}")
    else:
        print(f"{TARGET.relative_to(ROOT)} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
