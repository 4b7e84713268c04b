"""mkdocs hook: the site's title carries the documented release (``spela 1.0.0``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def on_config(config, **kwargs):
    try:
        config["site_name"] = f"spela {version('spela')}"
    except PackageNotFoundError:
        pass
    return config
