"""Email bodies from Jinja2 templates on disk: ``tokenfuse/templates`` and any package's own
``templates`` folder (the alerts stage keeps its own). ``.html`` templates are autoescaped (every
value a template interpolates is HTML-escaped; nothing is marked safe by hand); ``.txt`` ones,
plain-text parts, are rendered as written.

Jinja2 is imported on first use, so functions that never send email do not pay for it at cold
start.
"""

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def templates(package: str = "tokenfuse") -> "Environment":
    """The Jinja2 environment of ``package``'s ``templates`` folder."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_html(template: str, **values: object) -> str:
    """The template (a file name under ``tokenfuse/templates``) rendered with ``values``, escaped."""
    return templates().get_template(template).render(**values)
