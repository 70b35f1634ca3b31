"""The pages a brand puts in front of consumers, and its live dashboard (``c2m serve``).

Server-rendered with jinja2 (a brand's template folder, then the category plugin's, then the
defaults, reachable as ``default:pages/...``), progressively enhanced with htmx shipped in the
package; every page works without JavaScript. See docs/pages.md.
"""

from __future__ import annotations

from .views import PagesConfig, router_for

__all__ = ["PagesConfig", "router_for"]
