"""HTML email bodies from the Jinja2 templates in ``tokenfuse/templates`` (autoescape on: every
value a template interpolates is HTML-escaped; nothing is marked safe by hand).

Jinja2 is imported on first use, so functions that never send email do not pay for it at cold
start.
"""

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _environment() -> "Environment":
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("tokenfuse", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_html(template: str, **values: object) -> str:
    """The template (a file name under ``tokenfuse/templates``) rendered with ``values``, escaped."""
    return _environment().get_template(template).render(**values)
