"""Panels that apps above posts add to a post's detail page and editor, without posts importing them.

Apps that stand on posts (approvals, publishing) register a provider in their
``AppConfig.ready()``; the post detail view renders whatever the providers return, in order.
Beside the editor, `editor_panel_register` providers are rendered by the ``editor_panels`` tag.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpRequest

from posts.models import Post


@dataclass(frozen=True)
class Panel:
    """One block on the post detail page: a template and the context it reads as ``panel``."""

    template_name: str
    order: int = 100
    context: dict[str, object] = field(default_factory=dict)


PanelProvider = Callable[[HttpRequest, Post], Panel | None]

_providers: dict[str, PanelProvider] = {}


def panel_register(key: str, provider: PanelProvider) -> None:
    """Register (or replace) the provider known as ``key``."""
    _providers[key] = provider


def panels_for(*, request: HttpRequest, post: Post) -> list[Panel]:
    """Return the panels every registered provider offers for ``post``, in display order."""
    panels = [panel for provider in _providers.values() if (panel := provider(request, post)) is not None]
    return sorted(panels, key=lambda panel: panel.order)


_editor_providers: dict[str, PanelProvider] = {}


def editor_panel_register(key: str, provider: PanelProvider) -> None:
    """Register (or replace) the provider known as ``key`` of a block beside the editor of a saved post."""
    _editor_providers[key] = provider


def editor_panels_for(*, request: HttpRequest, post: Post) -> list[Panel]:
    """Return the panels every editor provider offers for ``post``, in display order."""
    panels = [panel for provider in _editor_providers.values() if (panel := provider(request, post)) is not None]
    return sorted(panels, key=lambda panel: panel.order)
