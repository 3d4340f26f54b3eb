"""Conversion rates for the marketing dashboard."""


def conversion_rate(conversions: int, visits: int) -> float:
    """Conversions per visit as a percentage with one decimal; a page without visits converts at 0.0."""
    if visits == 0:
        return 0.0
    return round(100 * conversions / visits, 1)


def best_page(stats: dict[str, tuple[int, int]]) -> str | None:
    """The page with the highest conversion rate; ties go to the page listed first."""
    best, best_rate = None, -1.0
    for page, (conversions, visits) in stats.items():
        rate = conversion_rate(conversions, visits)
        if rate > best_rate:
            best, best_rate = page, rate
    return best
