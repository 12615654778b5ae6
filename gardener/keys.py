"""What an entry is grouped by: its masked form, or its ready-made template (a stack trace's
exception and frames, a request log's method, route and status class). Secrets never get in.

The form is redacted, so no template, title, query or saved miner state holds a secret; as masking
keeps a value either whole or as `<*>`, a secret it kept is found in the form as in the message.
But masking may erase the key that marks a value as secret (`replica_2_password=x` becomes
`<*>=x`), so a message with a secret key's name in it (`pass`, `token`, `key`, ...) is redacted
before it is masked, and each secret's marker becomes `0`, a value masking always takes: the
template holds `<*>` where the secret was, and a DSN stays one value
(`postgresql://app:0@db:5432/x` -> `<*>`). Redacting every message first would do as well, at a
sixth of a run's time (the messages are mostly distinct; their forms are few and remembered).
"""

from __future__ import annotations

from gardener.folding import fold
from gardener.grouping import Form
from gardener.masking import Masker
from gardener.model import WILDCARD
from gardener.redact import MARKER, redact
from gardener.redact_rules import KEY_NEEDLES

_MASKER = Masker()


def entry_key(text: str, templated: bool, masker: Masker = _MASKER) -> str | Form:
    """The key of an entry whose mining text is `text`: a template (`templated`) or a form."""
    if templated:
        return redact(text)
    lowered = fold(text)
    if any(needle in lowered for needle in KEY_NEEDLES):
        clean = redact(text)
        return masker.form(MARKER.sub("0", clean) if "[REDACTED:" in clean else clean)
    form = masker.form(text)
    joined = " ".join(form)
    redacted = redact(joined)  # remembered: forms repeat
    return form if redacted == joined else tuple(MARKER.sub(WILDCARD, redacted).split(" "))
