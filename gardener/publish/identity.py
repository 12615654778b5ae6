"""Which account's comments and issues are ours. Pure: the publisher looks the identity up.

A marker in a body says what a comment or issue is about, not who wrote it: anyone can paste one
(a person copying a worklog into an issue, another app, an attacker on a public repository). So a
sticky comment or an issue counts as ours only if the token's own account wrote it:

- A token that may call `GET /user` (a personal access token, an OAuth or user-to-server token)
  is that user: only its login counts.
- An installation token is refused `GET /user` (403), and GitHub offers it no way to ask who it is
  (`GET /app` needs the app's JWT). It writes as its app's bot account, `<app-slug>[bot]`, of type
  `Bot`: the workflow's `GITHUB_TOKEN` as `github-actions[bot]` (on github.com and on GitHub
  Enterprise Server alike), a GitHub App's token as that app's bot. Only the configured bot login
  counts (`GARDENER_BOT_LOGIN`, default `github-actions[bot]`), and only with author type `Bot`;
  other bots (Dependabot, other apps) never do. No person can hold a login ending in `[bot]`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GITHUB_ACTIONS_BOT = "github-actions[bot]"
"""The account the workflow's `GITHUB_TOKEN` writes as."""
BOT_LOGIN_ENV = "GARDENER_BOT_LOGIN"
"""Names the bot a GitHub App's installation token writes as."""
_BOT_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,33}\[bot\]")  # app slugs: at most 34


@dataclass(frozen=True, slots=True)
class Identity:
    """The account the token writes as."""

    login: str
    """Its login, e.g. `octocat` or `github-actions[bot]`."""
    bot: bool
    """True for an app's bot (an installation token): its writes also carry author type `Bot`."""


def token_identity(user_login: str, bot_login: str) -> Identity:
    """The login `GET /user` gave, or, for a token refused it (""), the configured bot."""
    return Identity(user_login, bot=False) if user_login else Identity(bot_login, bot=True)


def written_by(author: Mapping[str, Any] | None, me: Identity) -> bool:
    """Whether `author` (the `user` of a comment or an issue) is `me`; logins ignore case."""
    login = str((author or {}).get("login") or "")
    if not login or login.lower() != me.login.lower():
        return False
    return (author or {}).get("type") == "Bot" if me.bot else True


def bot_login(value: str) -> str:
    """`value` as a bot login: an app's slug gets `[bot]` appended ("" stays "")."""
    value = value.strip()
    return value if not value or value.lower().endswith("[bot]") else f"{value}[bot]"


def is_bot_login(value: str) -> bool:
    """Whether `value` has the shape of an app bot's login (`<app-slug>[bot]`)."""
    return _BOT_LOGIN.fullmatch(value) is not None
