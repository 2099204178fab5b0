"""Import of a shop's own data from JSON (schema in docs/shop-data.md)."""
from actions.importer.loader import load_dataset
from actions.importer.validation import ShopDataError, validate_dataset

__all__ = ["ShopDataError", "load_dataset", "validate_dataset"]
