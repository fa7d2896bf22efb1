"""Text from outside, made safe to print: every log line and error message tokenfuse writes about
an input passes it through :func:`one_line` first."""


def one_line(text: str) -> str:
    """``text`` as one printable line: every character Python does not call printable (controls,
    format characters such as bidi overrides, lone surrogates, line separators, spaces other than
    ' ', unassigned code points) escaped: ``\\n``, ``\\x1b``, ``\\u202e``, ``\\udc80``. Printable
    non-ASCII (``café``, ``预算``) is kept."""
    return text if text.isprintable() else "".join(_escape(char) for char in text)


def _escape(char: str) -> str:
    if char.isprintable():
        return char
    if char in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
