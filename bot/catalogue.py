"""Read the shop's catalogue files: canonical product and carrier names with aliases.

Both the tokenizer (to keep names whole) and the catalogue entity recogniser
(to find and canonicalise them) read the same files, so a shop edits one list.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_DIR = "data/catalogue"


@dataclass(frozen=True)
class Catalogue:
    """Canonical names by entity type and an alias → canonical map for each."""

    aliases: dict[str, dict[str, str]] = field(default_factory=dict)

    def canonical(self, entity: str, value: str) -> str | None:
        """The canonical name for ``value`` (any alias, any case), or None."""
        table = self.aliases.get(entity, {})
        return table.get(value) or table.get(value.lower())

    def words(self) -> list[str]:
        """Names and aliases to add to jieba's dictionary.

        Pure ASCII aliases (SF, JD) are left out: jieba already keeps a Latin
        run whole, and adding them would split tracking numbers (SF|123...).
        """
        return sorted({w for table in self.aliases.values() for w in table
                       if not w.isascii() and " " not in w})


def catalogue_dir(configured: str | None = None) -> Path:
    """The catalogue folder: KEFU_CATALOGUE_DIR, else the configured path."""
    return Path(os.environ.get("KEFU_CATALOGUE_DIR") or configured or DEFAULT_DIR)


def _entries(path: Path, key: str) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    return list(data.get(key) or [])


def load_catalogue(directory: str | Path | None = None) -> Catalogue:
    """Load products.yml and carriers.yml from ``directory``."""
    folder = catalogue_dir(str(directory) if directory else None)
    aliases: dict[str, dict[str, str]] = {}
    for entity, filename, key in (("product", "products.yml", "products"),
                                  ("carrier", "carriers.yml", "carriers")):
        table: dict[str, str] = {}
        for item in _entries(folder / filename, key):
            name = str(item["name"])
            for alias in [name, *[str(a) for a in item.get("aliases") or []]]:
                table.setdefault(alias, name)
                table.setdefault(alias.lower(), name)
        aliases[entity] = table
    return Catalogue(aliases)


def catalogue_mtime(directory: str | Path | None = None) -> float:
    """Latest modification time of the catalogue files (0 when absent)."""
    folder = catalogue_dir(str(directory) if directory else None)
    times = [p.stat().st_mtime for p in folder.glob("*.yml")]
    return max(times, default=0.0)
