"""The catalog as versioned JSON for a portal (schema: policy_dsl/schema/catalog-v1.json)."""
from __future__ import annotations

from dataclasses import asdict

from .model import SCHEMA, Catalog


def catalog_json(c: Catalog) -> dict:
    data = asdict(c)
    data["open"] = [{"clause": cid, "parameter": asdict(p)} for cid, p in c.open]
    return {"schema": SCHEMA, "version": 1, **data}
