"""The Jinja2 environment: the publication's ``templates/`` first, then the defaults.

Defaults ship inside the package (``syndicate/templates`` in the wheel).  A
publication overrides any template by putting one of the same name in its own
``templates/`` folder, and can extend the default it replaces with
``{% extends "default:site/index.html.j2" %}``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jinja2

from .cache import digest
from .config import Config
from .email.text import wrap
from .errors import RenderError
from .static import leads_inside


def default_templates() -> Path:
    """The folder of the default templates: in the installed package, or, in a source
    checkout (an editable install), the repository's ``templates/``."""
    packaged = resources.files("syndicate").joinpath("templates")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "templates"


class _OwnTemplates(jinja2.FileSystemLoader):
    """The publication's own templates.  One that is a symbolic link to outside the
    templates folder is an error, not read: a template must not pull a file from
    elsewhere (``.env``, a subscriber list) into the output."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        folder = Path(self.searchpath[0])
        if not leads_inside(filename, folder):
            raise jinja2.TemplateError(
                f"{filename}: a symbolic link to outside the templates folder; copy the file in"
            )
        return source, filename, uptodate


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
            _OwnTemplates(config.templates_dir),
            defaults,
        ]
    )
    env = jinja2.Environment(
        loader=loader,
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["wrap"] = wrap  # plain text by display width: see syndicate.email.text
    return env


def compile_template(config: Config, name: str) -> jinja2.Template:
    """Template *name*, compiled (once per build: the environment keeps it); a broken
    template is a :class:`RenderError` naming it."""
    try:
        return environment(config).get_template(name)
    except jinja2.TemplateError as error:
        raise _render_error(error, name) from None


def render_template(config: Config, name: str, /, **context: object) -> str:
    """Render template *name*; a broken template is a :class:`RenderError` naming it."""
    try:
        return environment(config).get_template(name).render(**context)
    except jinja2.TemplateError as error:
        raise _render_error(error, name) from None


def _render_error(error: jinja2.TemplateError, name: str) -> RenderError:
    if isinstance(error, jinja2.TemplateSyntaxError):
        where = error.filename or error.name or name
        return RenderError(f"{where}:{error.lineno}: template error: {error.message}")
    return RenderError(f"{name}: template error: {error.message}")


def template_key(config: Config, name: str) -> str | None:
    """A hash of template *name* and of every template it extends, includes or imports:
    what a file rendered from it shows besides its context.  When one names another by an
    expression, which cannot be followed, every template counts.  None when a template
    cannot be read: rendering it will say why."""
    from jinja2 import meta

    env = environment(config)
    sources: dict[str, str] = {}
    todo = [name]
    try:
        while todo:
            current = todo.pop()
            if current in sources:
                continue
            sources[current] = _source(env, current)
            for referenced in meta.find_referenced_templates(env.parse(sources[current])):
                if referenced is None:
                    todo += [n for n in env.list_templates() if n not in sources]
                    break
                todo.append(referenced)
    except jinja2.TemplateError:
        return None
    return digest("templates", *[part for n in sorted(sources) for part in (n, sources[n])])


def _source(env: jinja2.Environment, name: str) -> str:
    assert env.loader is not None
    source: str = env.loader.get_source(env, name)[0]
    return source
