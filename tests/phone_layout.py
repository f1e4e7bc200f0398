"""Checks a phone-sized page is held to (issue 15): no sideways scrolling, 44 px tap targets.

Shared by tests/test_phone_layout_browser.py (factory data) and tests/test_phone_layout_demo_browser.py
(the demo data). Each check returns what it found wrong, in words, so a failure names the element.
"""

from typing import Any

# The deepest elements whose right edge lies beyond the viewport, unless a scroll container
# (overflow-x other than visible) that itself fits holds them; each named by tag, id and classes.
OVERFLOW_JS = """(width) => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
    + (el.textContent ? ' "' + el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 40) + '"' : '');
  const held = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible' && p.getBoundingClientRect().right <= width + 1) { return true; }
    }
    return false;
  };
  const wide = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1 && !held(el)) { wide.add(el); }
  }
  const leaves = [...wide].filter((el) => ![...el.children].some((child) => wide.has(child)));
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    offenders: leaves.slice(0, 6).map((el) => name(el) + ' right=' + Math.round(el.getBoundingClientRect().right)),
  };
}"""

# Visible controls a thumb must hit: the menu button, primary and decision buttons, calendar controls.
TAP_TARGETS = (
    "[data-menu-toggle], main button.primary, main .button.primary, .review-buttons button,"
    " .consent-action button, table.publications button, .cal-header .button, .cal-card-link, .cal-move > summary"
)
TAP_JS = """(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
  .map((el) => ({box: el.getBoundingClientRect(), el}))
  .filter(({box}) => box.height < 43.5 || box.width < 43.5)
  .map(({box, el}) => el.tagName.toLowerCase() + '.' + String(el.className).trim().replace(/\\s+/g, '.')
    + ' "' + el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 30) + '" '
    + Math.round(box.width) + 'x' + Math.round(box.height))"""


def overflow_problems(page: Any, width: int) -> list[str]:
    """Return what makes the page wider than ``width`` (empty when it fits)."""
    found = page.evaluate(OVERFLOW_JS, width)
    if found["scrollWidth"] <= width and found["innerWidth"] <= width:
        return []
    where = "; ".join(found["offenders"]) or "no single element"
    return [f"{page.url} at {width} px is {found['scrollWidth']} px wide (innerWidth {found['innerWidth']}): {where}"]


def small_tap_targets(page: Any) -> list[str]:
    """Return the visible tap targets smaller than 44 x 44 px on the page."""
    return [f"{page.url}: {item}" for item in page.evaluate(TAP_JS, TAP_TARGETS)]


def phone_context(browser: Any, live_server: Any, width: int, **options: Any) -> Any:
    """A new touch-screen browser context ``width`` px wide, in English, Berlin time."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": 800},
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        timezone_id="Europe/Berlin",
        **options,
    )
    context.set_default_timeout(10_000)
    return context
