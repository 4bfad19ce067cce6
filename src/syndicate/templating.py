"""The Jinja2 environment: the publication's ``templates/`` first, then the defaults.

Defaults ship inside the package (``syndicate/templates`` in the wheel).  A
publication overrides any template by putting one of the same name in its own
``templates/`` folder, and can extend the default it replaces with
``{% extends "default:site/index.html.j2" %}``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import jinja2

from .config import Config
from .errors import RenderError


def default_templates() -> Path:
    """The folder of the default templates: in the installed package, or, in a source
    checkout (an editable install), the repository's ``templates/``."""
    packaged = resources.files("syndicate").joinpath("templates")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "templates"


def _autoescape(name: str | None) -> bool:
    # Plain-text templates must not turn "&" into "&amp;"; everything else escapes.
    return not (name or "").endswith(".txt.j2")


@lru_cache(maxsize=8)
def environment(config: Config) -> jinja2.Environment:
    """Autoescaping, StrictUndefined, the user's templates before the defaults."""
    defaults = jinja2.FileSystemLoader(default_templates())
    loader = jinja2.ChoiceLoader(
        [
            jinja2.PrefixLoader({"default": defaults}, delimiter=":"),
            jinja2.FileSystemLoader(config.templates_dir),
            defaults,
        ]
    )
    return jinja2.Environment(
        loader=loader,
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_template(config: Config, name: str, **context: object) -> str:
    """Render template *name*; a broken template is a :class:`RenderError` naming it."""
    try:
        return environment(config).get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as error:
        where = error.filename or error.name or name
        raise RenderError(f"{where}:{error.lineno}: template error: {error.message}") from None
    except jinja2.TemplateError as error:
        raise RenderError(f"{name}: template error: {error.message}") from None
