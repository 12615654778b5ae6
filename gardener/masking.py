"""Typed masking of variable tokens: turn a log message into tokens with `<*>` where values go.

Pure functions, one default configuration. A token keeps its punctuation (`(8.0s)` -> `(<*>)`),
so templates keep the structure of the message.
"""

from __future__ import annotations

import re

WILDCARD = "<*>"

# Values anywhere in the text, bounded so they never cut a word in two (`exit(3)` -> `exit(<*>)`,
# `5xx` stays). Order matters: longer, more specific shapes first.
_END = r"(?![\w@-]|[.:]\w)"
_UNIT = r"(?:[mun\u00b5]?s|[mhdw]|[kKMGTP]i?[bB]|[bB]|%)"
_VALUE = re.compile(
    r"""(?x)
    (?<![\w.<-])
    (?: (?: [0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}   # UUID
          | [a-zA-Z][a-zA-Z0-9+.-]*://[^\s'"<>()\[\]{},]+                            # URL
          | [\w.+-]+@[\w-]+(?:\.[\w-]+)+                                             # e-mail
          | (?:\d{1,3}\.){3}\d{1,3}(?::\d+)?                                         # IPv4
          | (?=[0-9a-fA-F:]*::?[0-9a-fA-F]*:)(?=[0-9a-fA-F:]*\d)[0-9a-fA-F]*(?::[0-9a-fA-F]*){2,7}
          | \d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?
          | \d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?                                     # time
          | 0[xX][0-9a-fA-F]+                                                        # 0x hex
          | (?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}                # hex id
          | (?=[\w+/-]*\d)(?=[\w+/-]*[A-Za-z])[\w+/-]{24,}={0,2}                    # base64
        )""" + _END + r"""
      | [-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?=""" + _UNIT + "?" + _END + r"""))  # number[unit]
    """
)


def tokenize(message: str) -> list[str]:
    """Whitespace tokens; the template is these tokens joined by single spaces."""
    return message.split()


def mask(message: str) -> list[str]:
    """Tokens of `message` with typed values replaced by `<*>`."""
    return tokenize(_VALUE.sub(WILDCARD, message))
