"""Stock levels and when to reorder."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    sku: str
    on_hand: int
    reorder_threshold: int


def reorder_needed(item: Item) -> bool:
    """An item is reordered once its stock falls to its threshold or below."""
    return item.on_hand < item.reorder_threshold


def reorder_list(items: list[Item]) -> list[str]:
    """The SKUs to reorder, in the order given."""
    return [item.sku for item in items if reorder_needed(item)]
