"""What secrets look like in log text: the rules `gardener.redact` applies, and which keys name
secrets.

How detect-secrets (Yelp) is used. Its vendor token regexes (AWS, GitHub, GitLab, Slack, Stripe,
SendGrid, Twilio, PyPI, OpenAI, Square, Discord, Mailchimp, Telegram), its private-key header list
and its secret-keyword list are the pattern source here. They are copied from the plugins'
`denylist` attributes and `keyword.DENYLIST` into the generated `gardener.secret_patterns` by
`scripts/sync_secret_patterns.py`, because importing detect-secrets costs ~0.25 s at start-up (its
plugins import `requests`, its package the scanner): the runtime never imports it. A test fails when
the module differs from what the installed detect-secrets gives, so an upgrade brings new formats
along after one run of the script (the tests pin every kind we promise). Its scanning engine is not
used, because:
- it is slow for this job: `detect_secrets.core.scan.scan_line` takes ~1.5 ms per log line with the
  default plugins (10k lines ~ 15 s; see `bench/redact.py`);
- it reports secret *values*, not spans, so it cannot say which characters to replace;
- its high-entropy plugins flag ordinary words, UUIDs, trace ids and commit SHAs, and its keyword
  regexes run to the end of the line (`password=x user=y` would lose `user=y` too);
- its regexes say "a secret is here", not where it ends: the Stripe and GitHub patterns stop at a
  fixed length, the JWT pattern stops lazily before the signature (and, allowing `=` anywhere, is
  quadratic on hostile input), the basic-auth pattern misses passwords containing `!$&'()*+,;=`.
  So each library regex gets a left boundary and a tail that extends the match over the rest of
  the token, and our own rules cover what it lacks or gets wrong (JWTs, DSN passwords, Bearer and
  Basic credentials, `key=value` secrets, `github_pat_`, Google API keys and OAuth tokens, whole
  PEM blocks, ...).
Each rule's regex is compiled when a text first contains one of its needles, not at import.

Every rule lists lowercase needles (`"ghp_"`, `"@"`, `"bearer"`): its regex runs only on text that
contains one. Regexes are written to stay linear on hostile input (possessive runs, boundaries
inside the regex where a run is open-ended); `bench/redact.py` times a set of such inputs.
"""

from __future__ import annotations

import base64
import binascii
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Final

from gardener.folding import plain_letters
from gardener.secret_patterns import DETECTOR_PATTERNS, PRIVATE_KEY_HEADERS, SECRET_KEYWORDS

MARKER: Final = re.compile(r"\[REDACTED:[a-z0-9-]+\]")
_PLACEHOLDER: Final = re.compile(r"<[^<>\s]{0,20}>|\[[A-Z][A-Z0-9_:. -]*\]|\$\{[^}]*\}|%[sdr]")
# Values that say something about a secret without being one ("token: expired").
_NOT_SECRETS: Final = frozenset(
    "null none nil true false undefined empty missing invalid expired required set unset not no "
    "yes ok n/a na redacted masked hidden present provided found configured absent revoked "
    "rejected denied failed read write admin maintain triage valid verified refreshed rotated "
    "created updated deleted".split()  # the second line: GitHub permission levels, e.g.
    # `id-token: write` in an error about workflow permissions, and words about a token's state
)
_SECRET_MANAGER_NAME: Final = re.compile(r"projects/[^/\s]+/secrets/")
_ALNUM: Final = string.ascii_letters + string.digits


def marker(kind: str) -> str:
    """The text that replaces a secret of `kind`."""
    return f"[REDACTED:{kind}]"


class LazyRegex:
    """A regex compiled when a text first needs it: a run meets the needles of few rules, and
    compiling all of them took 40 ms of every run."""

    __slots__ = ("pattern", "flags", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled.finditer(text)

    def search(self, text: str) -> re.Match[str] | None:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled.search(text)


@dataclass(frozen=True)
class Rule:
    """One way a secret shows up in text."""

    kind: str
    """Marker kind."""
    pattern: LazyRegex
    """Finds the secret; `groups` says which part of the match is secret."""
    needles: tuple[str, ...]
    """Lowercase substrings; the rule runs only on text containing one (the cheap pre-check)."""
    groups: tuple[int | str, ...] = (0,)
    """Groups to try in order; the first that took part in the match is the secret."""
    accept: Callable[[str], bool] | None = None
    """Second look at the secret candidate, to turn away look-alikes."""
    left: str = ""
    """Characters that may not come right before the match (checked here, not in the regex, so
    the regex keeps its fast literal-prefix search)."""


# A candidate: (match start, match end, secret start, secret end, kind).
Found = tuple[int, int, int, int, str]


# --- small checks -------------------------------------------------------------------------------


def _plausible_value(value: str) -> bool:
    """A keyword's value that could be a secret: not empty, masked, a placeholder or a status."""
    value = value.strip()
    if not value or MARKER.fullmatch(value) or _PLACEHOLDER.fullmatch(value):
        return False
    if value.lower() in _NOT_SECRETS or set(value) <= set("*xX#•.-_"):
        return False
    return not _SECRET_MANAGER_NAME.match(value)


def _tokenish(value: str) -> bool:
    """Looks like a credential rather than a word: long enough and not plain prose."""
    if len(value) < 8 or not _plausible_value(value):
        return False
    return (any(c.isdigit() or c in "._~+/=-" for c in value)
            or any(c.isupper() for c in value[1:]))


def _basic_credentials(value: str) -> bool:
    """Base64 of `user:password`, as in an HTTP Basic header."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return ":" in decoded and decoded.isprintable()


# --- keys that name secrets ---------------------------------------------------------------------

# Key words that name secrets (`_?`: optional separator) and the kind each gets. The last field says
# whether prose may use it: JSON keys are stronger evidence than text, where "credentials: loaded
# from metadata server" and "Authorization: denied" are ordinary.
_KEY_VOCAB: Final[tuple[tuple[str, str, bool], ...]] = (
    ("password", "password", True), ("passwd", "password", True), ("pwd", "password", True),
    ("passphrase", "password", True), ("db_?pass", "password", True),
    ("secret", "secret", True), ("client_?secret", "secret", True),
    ("secret_?key", "secret", True), ("secret_?access_?key", "secret", True),
    ("token", "token", True), ("access_?token", "token", True), ("refresh_?token", "token", True),
    ("auth_?token", "token", True), ("id_?token", "token", True), ("api_?token", "token", True),
    ("session_?token", "token", True), ("bearer_?token", "token", True),
    ("api_?key", "api-key", True), ("private_?key", "private-key", True),
    ("priv_?key", "private-key", True), ("access_?key", "key", True), ("auth_?key", "key", True),
    ("account_?key", "key", True), ("client_?key", "key", True), ("service_?key", "key", True),
    ("signing_?key", "key", True), ("encryption_?key", "key", True), ("master_?key", "key", True),
    ("signature", "signature", True), ("sig", "signature", True),
    ("authorization", "authorization", False), ("cookie", "cookie", False),
    ("set_?cookie", "cookie", False), ("credentials", "credentials", False),
    ("credential", "credentials", False), ("session_?id", "session", False),
)


def _guess_kind(word: str) -> str:
    """Kind for a keyword we did not list ourselves (one of detect-secrets')."""
    if any(part in word for part in ("pass", "pwd", "contras")):
        return "password"
    return "secret" if "secret" in word else "key"


@cache
def _vocabulary() -> dict[str, tuple[str, bool]]:
    """Key spelling (lowercase, `_` between words or none) -> (kind, usable in prose)."""
    entries = list(_KEY_VOCAB)
    known = {word for word, _, _ in entries}
    entries += [(w, _guess_kind(w), True) for w in SECRET_KEYWORDS if w not in known]
    vocab: dict[str, tuple[str, bool]] = {}
    for word, kind, in_text in entries:
        for spelling in (word.replace("_?", "_"), word.replace("_?", "")):
            vocab[spelling] = (kind, in_text)
    return vocab


_CAMEL: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD: Final = re.compile(r"[^a-z0-9ñ]+")


@lru_cache(maxsize=4096)  # JSON keys repeat in every entry
def secret_key_kind(key: str, in_text: bool = False) -> str | None:
    """The kind of secret a key names (`DB_PASSWORD`, `clientSecret`, `x-api-key`), else None.

    The key's last one to three words decide; `in_text` leaves out words too common in prose.
    """
    # `paſſword` is a password to the case-insensitive regexes of the rules, and so here
    words = [w for w in _NON_WORD.split(_CAMEL.sub("_", plain_letters(key)).lower()) if w]
    vocab = _vocabulary()
    for size in (3, 2, 1):
        if len(words) >= size:
            hit = vocab.get("_".join(words[-size:])) or vocab.get("".join(words[-size:]))
            if hit and (hit[1] or not in_text):
                return hit[0]
    return None


# --- `key=value` in text ------------------------------------------------------------------------

_VALUE: Final = (
    r"""(?:[bBuUrR]{0,2}\\?"(?P<dq>(?:[^"\\\n]|\\[^"\n])+)"""
    r"""|[bBuUrR]{0,2}\\?'(?P<sq>(?:[^'\\\n]|\\[^'\n])+)"""
    r"""|(?P<bare>\$\{[^}\s]*\}|(?:[^\s"'`,;&<>()\[\]{}\\]|\\(?!["']))+))"""
)
# After the key: an optional closing quote or bracket, then `=`, `:=`, `=>` or `: `. A colon with no
# space after it is a URL's user:password or a host:port, not an assignment.
_ASSIGNED: Final = re.compile(
    r"""(?:\\?["'`])?\]?[ \t]*(?:=>|:=|=|%3[dD]|:(?=\s|\\?["']))[ \t]*""" + _VALUE)
_KEY_CHARS: Final = frozenset(_ALNUM + "_-ñÑ")
KEY_NEEDLES: Final = ("pass", "pwd", "secret", "token", "key", "sig", "contras")
_KEY_NEEDLE_RE: Final = re.compile("|".join(KEY_NEEDLES))
_KEY_NEEDLE_ANY_CASE: Final = re.compile("|".join(KEY_NEEDLES), re.IGNORECASE)


def assignments(text: str, lowered: str) -> Iterator[Found]:
    """`password=...`, `"api_key": "..."`, `secret: ...`, `token=...`: the value goes.

    Found from the needles outwards rather than by one regex over every word, which is ~10x faster.
    Each stretch of text is looked at once, so hostile input ("password=" x 10,000) stays linear.
    """
    skip = 0  # needles before this offset are inside a key or value already looked at
    # Searching the lowercased text is 5x faster than a case-insensitive regex, but lower() can
    # change the length of a few characters (İ), and then the offsets would not line up.
    aligned = len(lowered) == len(text)
    needles = (_KEY_NEEDLE_RE.finditer(lowered) if aligned
               else _KEY_NEEDLE_ANY_CASE.finditer(text))
    chars = lowered if aligned else text  # folded, a key's `ı` and `ſ` are key characters
    for needle in needles:
        if needle.start() < skip:
            continue
        start, end = needle.start(), needle.end()
        while start > 0 and chars[start - 1] in _KEY_CHARS:
            start -= 1
        while end < len(text) and chars[end] in _KEY_CHARS:
            end += 1
        skip = end
        kind = secret_key_kind(text[start:end], in_text=True)
        assigned = _ASSIGNED.match(text, end) if kind else None
        if kind is None or assigned is None:
            continue
        skip = assigned.end()
        group = next(g for g in ("dq", "sq", "bare") if assigned.group(g) is not None)
        if _plausible_value(assigned.group(group)):
            yield start, assigned.end(), assigned.start(group), assigned.end(group), kind


# --- rules ---------------------------------------------------------------------------------------

_TOKEN_TAIL: Final = "[A-Za-z0-9_]*"
_DASH_TAIL: Final = "[A-Za-z0-9_-]*"


def _not_after(chars: str) -> str:
    """A lookbehind: the match may not follow any of `chars`."""
    return f"(?<![{re.escape(chars)}])"


_ESCAPE_BEFORE: Final = re.compile(r"(?:%[0-9A-Fa-f]{2}|\\[nrt]|\\u[0-9A-Fa-f]{4})\Z")
"""An escape just before a match (`%3D`, `\\n`, `\\u003d`): a token in a percent-encoded URL
or in JSON-escaped text, though a letter or digit is right before it (see `Rule.left`)."""


def _library_rule(kind: str, pattern: LazyRegex, needles: tuple[str, ...],
                  tail: str = _TOKEN_TAIL, left: str = _ALNUM, guard: bool = False) -> Rule:
    """A detect-secrets regex with a left boundary and a tail that runs to the token's end.

    The boundary is checked after the match, which keeps the regex's literal-prefix search fast.
    `guard` puts it in the regex instead, for patterns whose open-ended run would otherwise be
    rescanned from every start inside one long token (quadratic on hostile input).
    """
    source = f"(?:{pattern.pattern}){tail}"
    if guard:
        return Rule(kind, LazyRegex(_not_after(left) + source, pattern.flags), needles)
    return Rule(kind, LazyRegex(source, pattern.flags), needles, left=left)


def _denylist(detector: str) -> list[LazyRegex]:
    """A detect-secrets detector's regexes, with the flags the detector compiles them with."""
    return [LazyRegex(pattern, flags) for pattern, flags in DETECTOR_PATTERNS[detector]]


# Each GitLab regex starts with one of these (a test checks): "gl" alone is in every "google".
_GITLAB_PREFIXES: Final = ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "gr1348941", "glcbt-",
                           "glimt-", "glptt-", "glagent-", "gloas-")


def _library_rules() -> list[Rule]:
    """Vendor token formats, as detect-secrets knows them."""
    # (kind, detector, needles, tail, characters that may not precede, guard in the regex)
    a, dash = _ALNUM, _DASH_TAIL
    table: list[tuple[str, str, tuple[str, ...], str, str, bool]] = [
        ("github-token", "GitHubTokenDetector", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
         _TOKEN_TAIL, a, False),
        ("gitlab-token", "GitLabTokenDetector", _GITLAB_PREFIXES, dash, a, False),
        ("slack-token", "SlackDetector", ("xox", "hooks.slack.com"), dash, a, False),
        ("stripe-key", "StripeDetector", ("k_live_",), "[A-Za-z0-9]*", a, False),
        ("sendgrid-key", "SendGridDetector", ("sg.",), dash, a, False),
        ("twilio-key", "TwilioKeyDetector", ("ac", "sk"), "[a-z0-9]*", a, False),
        ("pypi-token", "PypiTokenDetector", ("pypi-",), dash, a, False),
        ("openai-key", "OpenAIDetector", ("t3blbkfj",), dash, a + "_-", True),
        ("square-secret", "SquareOAuthDetector", ("sq0csp-",), dash, a, False),
        ("discord-token", "DiscordBotTokenDetector", (".",), dash, a + "_.-", False),
        ("mailchimp-key", "MailchimpDetector", ("-us",), "[a-z0-9]*", a, False),
        ("telegram-token", "TelegramBotTokenDetector", (":",), dash, string.digits, False),
    ]
    rules = [_library_rule(kind, pattern, needles, tail, left, guard)
             for kind, detector, needles, tail, left, guard in table
             for pattern in _denylist(detector)]
    aws_id, aws_secret = _denylist("AWSKeyDetector")
    rules.append(_library_rule("aws-key", aws_id, ("akia", "asia", "abia", "acca", "a3t")))
    rules.append(Rule("aws-secret-key", aws_secret, ("aws",), groups=(1,)))
    return rules


_OWN_TOKENS: Final = (
    ("github-token", r"github_pat_[A-Za-z0-9_]{22,}+|gh[pousr]_[A-Za-z0-9_]{30,}+",
     ("github_pat_", "gh")),
    ("gcp-api-key", r"AIza[0-9A-Za-z_-]{35}", ("aiza",)),
    ("google-oauth-token", r"ya29\.[0-9A-Za-z_-]{20,}+|1//0[0-9A-Za-z_-]{20,}+", ("ya29.", "1//0")),
    ("google-client-secret", r"GOCSPX-[0-9A-Za-z_-]{20,}+", ("gocspx-",)),
    ("stripe-key", r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}+|whsec_[0-9A-Za-z]{20,}+",
     ("k_live_", "k_test_", "whsec_")),
    ("slack-token", r"xapp-[0-9A-Za-z-]{20,}+|xoxe\.xox[a-z]-[0-9A-Za-z-]{20,}+",
     ("xapp-", "xoxe.")),
    ("openai-key", r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}+", ("sk-",)),
    ("anthropic-key", r"sk-ant-[A-Za-z0-9_-]{20,}+", ("sk-ant-",)),
    ("npm-token", r"npm_[A-Za-z0-9]{36}", ("npm_",)),
    ("huggingface-token", r"hf_[A-Za-z]{30,}+", ("hf_",)),
    # header.payload[.signature[.more]] (JWS, JWE); `=` only as padding, so runs stay linear.
    ("jwt", r"eyJ[A-Za-z0-9_-]++=*+\.[A-Za-z0-9_-]++=*+(?:\.[A-Za-z0-9_+/-]++=*+)*+", ("eyj",)),
)


def _own_rules() -> list[Rule]:
    """Token formats detect-secrets lacks, bounded on both sides (possessive runs, so a failed
    match gives up at once instead of backtracking)."""
    return [Rule(kind, LazyRegex(rf"(?:{pattern})(?![A-Za-z0-9_-])"), needles,
                 left=_ALNUM + "_-")
            for kind, pattern, needles in _OWN_TOKENS]


def _pem_rules() -> list[Rule]:
    """Whole PEM blocks (also JSON-escaped, `\\n`), and the start of a truncated one."""
    # Longest first; ties by name, so the pattern is the same in every process (a set's order
    # is not).
    names = "|".join(sorted({*PRIVATE_KEY_HEADERS, "ENCRYPTED PRIVATE KEY"},
                            key=lambda name: (-len(name), name)))
    # The body may not cross another BEGIN: keeps a run of unterminated headers linear.
    block = LazyRegex(rf"-----BEGIN (?P<h>{names})-----(?:(?!-----BEGIN ).)*?-----END (?P=h)-----",
                      re.DOTALL)
    start = LazyRegex(rf"-----BEGIN (?:{names})-----(?:[A-Za-z0-9+/=\s]|\\[nr])*")
    needles = ("private key",)
    return [Rule("private-key", block, needles), Rule("private-key", start, needles)]


def _header(scheme: str) -> LazyRegex:
    """`Authorization: <scheme> <v>` in a header line, a dict repr or JSON text."""
    return LazyRegex(r"""(?i:(?:proxy-)?authorization)\\?["']?[ \t]*[:=][ \t]*\\?["']?[ \t]*"""
                     + scheme + r"""(?P<v>[^\s"',;\\]+)""")


def _context_rules() -> list[Rule]:
    """Credentials recognised by what surrounds them rather than by their shape."""
    auth = ("authorization",)
    schemes = r"(?:(?i:token|key|apikey|sso-key|digest|negotiate|ntlm)[ \t]+)?"
    return [
        Rule("bearer", _header(r"(?i:bearer)[ \t]+"), auth, ("v",), _plausible_value, "-"),
        Rule("basic", _header(r"(?i:basic)[ \t]+"), auth, ("v",), _plausible_value, "-"),
        Rule("authorization", _header(schemes), auth, ("v",),
             lambda v: _tokenish(v) and v.lower() not in {"bearer", "basic"}, _ALNUM + "-"),
        Rule("bearer", LazyRegex(r"(?i:bearer)\s+(?P<v>[A-Za-z0-9\-._~+/]+=*)"), ("bearer",),
             ("v",), _tokenish, _ALNUM),
        Rule("basic", LazyRegex(r"(?i:basic)\s+(?P<v>[A-Za-z0-9+/]{6,}+={0,2}+)"
                                r"(?![A-Za-z0-9+/=])"), ("basic",), ("v",), _basic_credentials,
             _ALNUM),
        Rule("cookie", LazyRegex(r"""(?i:(?:set-)?cookie)\\?["']?[ \t]*[:=][ \t]*\\?["']?"""
                                 r"""(?P<v>[^\n"'\\]*+)"""), ("cookie",),
             ("v",), lambda v: "=" in v and _plausible_value(v), _ALNUM + "-"),
        # scheme://user:password@host: the password goes, up to the last @ of the authority.
        Rule("password", LazyRegex(r"""://[^\s:/?#@\[\]"'<>]*:(?P<pw>[^\s/?#"'<>\[\]]+)@"""),
             ("@",), ("pw",), _plausible_value),
        # the same, percent-encoded (a DSN in a query string): %3A%2F%2Fuser%3Apassword%40host
        Rule("password", LazyRegex(r"(?i:%3A%2F%2F)[^\s%/?#@&]*(?i:%3A)(?P<pw>[^\s/?#@&]+?)"
                                   r"(?i:%40)"), ("%40",), ("pw",), _plausible_value),
    ]


@cache
def default_rules() -> tuple[Rule, ...]:
    """Every pattern rule, most specific first (the order breaks ties between equal spans)."""
    return (*_pem_rules(), *_own_rules(), *_library_rules(), *_context_rules())


def find(rule: Rule, text: str) -> Iterator[Found]:
    """Where `rule` finds secrets in `text`."""
    for m in rule.pattern.finditer(text):
        if rule.left and m.start() > 0 and text[m.start() - 1] in rule.left and \
                not _ESCAPE_BEFORE.search(text, max(0, m.start() - 6), m.start()):
            continue
        for group in rule.groups:
            start, end = m.span(group)
            if start >= 0 and end > start:
                if rule.accept is None or rule.accept(text[start:end]):
                    yield m.start(), m.end(), start, end, rule.kind
                break
