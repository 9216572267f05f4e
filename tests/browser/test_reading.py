"""Issue 14's checks, as a person reads the panel: problems look like problems in both themes, a page of
hundreds of sends reads as a few folded lines, every finding and "stack as #N" leads to its row, and the
export downloads what the panel shows. Tests taking ``demo`` run with djdt's shadow DOM and without it."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.demo_server import DemoServer
from tests.browser.toolbar import Toolbar

pytestmark = pytest.mark.browser

SCREEN = 900

# The colour a property of an element computes to, as "rgb(...)" / "rgba(...)".
COMPUTED = "(element, property) => getComputedStyle(element).getPropertyValue(property)"
# djdt's own "selected" colours, read from the toolbar's variables.
SELECTION = """(element) => {
    const style = getComputedStyle(element.closest('#djDebug'));
    return [style.getPropertyValue('--djdt-focus-color').trim(),
            style.getPropertyValue('--djdt-highlighted-background-color').trim()];
}"""


def rgb(css: str) -> tuple[int, ...]:
    """``#rrggbb`` or ``rgb(a)(...)`` as a tuple of its channels (alpha dropped)."""
    css = css.strip()
    if css.startswith("#"):
        return tuple(int(css[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(int(float(v)) for v in re.findall(r"[\d.]+", css)[:3])


def test_the_restock_page_opens_folded_within_three_screens_and_every_row_is_reachable_through_its_group(
    page, demo: DemoServer
):
    toolbar = Toolbar(page, demo).visit("/saves/restock/")
    panel = toolbar.open_panel()
    # All 800 signals accounted for: 200 pre_save + 200 post_save + 200 pre_init + 200 post_init.
    assert toolbar.stat("signals") == "800"
    height = panel.locator(".djdt-sig").evaluate("(e) => e.scrollHeight")
    assert height <= 3 * SCREEN, f"the panel is {height} px tall as it opens"
    for signal in ("pre_save", "post_save"):
        section = toolbar.section(signal)
        expect(section.locator(".djdt-sig-what")).to_contain_text("200 sends in 1 group of alike sends")
        expect(section.locator(".djdt-sig-what")).to_contain_text("100 of 200 listed row by row")
        line = section.locator("tr.djdt-sig-group-line")
        expect(line).to_have_count(1)
        expect(line).to_contain_text("200 rows")
        expect(section.locator("tr.djdt-sig-event:visible")).to_have_count(0)
        toggle = line.locator("button.djdt-sig-open")
        expect(toggle).to_have_text("200\N{MULTIPLICATION SIGN}")
        toggle.focus()
        page.keyboard.press("Enter")  # by keyboard too
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(section.locator("tr.djdt-sig-event:visible")).to_have_count(100)
    # Every row the old page listed one under the other is there, each under its group.
    expect(panel.locator("tr.djdt-sig-event")).to_have_count(200)


def test_the_text_filter_opens_the_groups_it_finds_rows_in_and_says_what_it_searches(page, shadow_demo: DemoServer):
    toolbar = Toolbar(page, shadow_demo).visit("/saves/restock/")
    panel = toolbar.open_panel()
    covers = panel.locator(".djdt-sig-covers")
    expect(covers).to_be_hidden()
    panel.locator('input[data-sig-filter="text"]').fill("grinder no. 42")
    expect(panel.locator("tr.djdt-sig-event:visible")).to_have_count(2)
    expect(panel.locator(".djdt-sig-shown")).to_have_text("2 of 201 rows shown")
    expect(covers).to_be_visible()
    expect(covers).to_contain_text("200 sends counted but not listed")
    panel.locator('input[data-sig-filter="text"]').fill("")
    expect(panel.locator("tr.djdt-sig-event:visible")).to_have_count(0)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(
    ("path", "submit", "family", "words"),
    [
        ("/saves/twice/", False, "redundant_saves", "1 redundant save"),
        ("/receivers/robust/", False, "receiver_errors", "1 receiver error"),
        ("/auth/direct-failed/", False, "credentials_in_clear", "2 credentials in clear"),
        ("/auth/second-factor/", True, "credentials_in_clear", "2 credentials in clear"),
    ],
)
def test_problems_are_not_in_the_selection_colour_read_at_aa_and_are_named_in_the_subtitle(
    page, demo: DemoServer, theme: str, path: str, submit: bool, family: str, words: str
):
    toolbar = Toolbar(page, demo).visit(path, submit=submit)
    if theme == "dark":
        toolbar.dark_theme()
    expect(page.locator("#djDebugPanelList a.SignalActivityPanel")).to_contain_text(words)
    panel = toolbar.open_panel()
    tile = panel.locator(f'[data-stat="{family}"]')
    focus, highlighted = tile.evaluate(SELECTION)
    border = tile.evaluate(COMPUTED, "border-top-color")
    assert rgb(border) != rgb(focus), "the tile's edge is the toolbar's selection green"
    background = tile.evaluate(COMPUTED, "background-color")
    assert rgb(background) != rgb(highlighted)
    marked = panel.locator("tr.djdt-sig-event.djdt-sig-problem-row").first
    edge = marked.locator("td").first.evaluate(COMPUTED, "box-shadow")
    assert rgb(edge) != rgb(focus)
    # A sign and a word, not colour alone; and they read at WCAG AA on what is behind them.
    mark = panel.locator("tr.djdt-sig-event .djdt-sig-mark.djdt-sig-problem").first
    assert mark.evaluate("(e) => getComputedStyle(e, '::before').content") == '"⚠ "'
    for name, locator in {"tile": tile, "mark": mark, "finding": panel.locator(".djdt-sig-finding").first}.items():
        ratio = toolbar.contrast(locator)
        assert ratio >= 4.5, f"{theme} {path}: {name} contrast {ratio:.2f}"


def test_a_receiver_that_raised_under_send_robust_is_a_finding_with_a_tile(page, demo: DemoServer):
    toolbar = Toolbar(page, demo).visit("/receivers/robust/")
    panel = toolbar.open_panel()
    assert toolbar.stat("receiver_errors") == "1"
    finding = panel.locator('.djdt-sig-finding[data-kind="receiver_error"]')
    expect(finding).to_contain_text("shop.receivers.charge_card raised ConnectionError")
    expect(finding).to_contain_text("order_placed from shop.Order")
    expect(finding).to_contain_text("shop/views.py:")
    row = toolbar.section("order_placed").locator("tr.djdt-sig-event")
    expect(row.locator(".djdt-sig-mark.djdt-sig-problem").first).to_have_text("receiver error")
    expect(row).to_contain_text("1 raised")


def test_each_finding_link_brings_its_rows_into_view_and_marks_them(page, demo: DemoServer):
    toolbar = Toolbar(page, demo).visit("/saves/twice/")
    panel = toolbar.open_panel()
    section = toolbar.section("post_save")
    section.locator(".djdt-sig-fold").click()  # folded away: the link must open it again
    expect(section.locator("table")).to_be_hidden()
    link = panel.locator('.djdt-sig-finding[data-kind="saved_again"] a.djdt-sig-goto')
    expect(link).to_have_text("show its 2 rows")
    link.focus()
    page.keyboard.press("Enter")
    rows = section.locator("tr.djdt-sig-event")
    for row in rows.all():
        expect(row).to_be_visible()
        expect(row).to_have_class(re.compile(r"djdt-sig-target"))
    expect(rows.first).to_be_in_viewport()
    expect(rows.first).to_be_focused()
    # And back: the row's mark leads to the finding.
    rows.last.locator("a.djdt-sig-mark").click()
    expect(panel.locator('.djdt-sig-finding[data-kind="saved_again"]')).to_be_in_viewport()


def test_stack_as_n_opens_the_stack_it_names_inside_a_folded_group(page, demo: DemoServer):
    toolbar = Toolbar(page, demo).visit("/saves/restock/")
    panel = toolbar.open_panel()
    section = toolbar.section("post_save")
    section.locator("button.djdt-sig-open").click()
    link = section.locator("a.djdt-sig-stack-as").last
    seq = link.get_attribute("data-seq")
    expect(link).to_have_text(f"stack as #{seq}")
    link.scroll_into_view_if_needed()
    link.click()
    stack = panel.locator(f"#sigDetails_{seq}")
    expect(stack).to_be_visible()
    expect(stack).to_be_in_viewport()
    expect(stack.locator("pre.djdt-stack")).to_contain_text("restock_many")
    expect(panel.locator(f"#sigMain_{seq}")).to_have_class(re.compile(r"djdt-sig-target"))


def test_the_json_download_parses_round_trips_the_counts_and_holds_no_credential(page, demo: DemoServer):
    toolbar = Toolbar(page, demo).visit("/auth/direct-failed/")
    panel = toolbar.open_panel()
    with page.expect_download() as download:
        panel.locator('a[data-sig-export="json"]').click()
    text = download.value.path().read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["format"] == "dt_signals_panel.activity"
    assert data["version"] == 1
    assert str(data["summary"]["signals"]) == toolbar.stat("signals")
    assert str(data["summary"]["credentials_in_clear"]) == toolbar.stat("credentials_in_clear")
    shown = {
        section.get_attribute("data-signal"): int(section.locator("h4 .djdt-sig-count").inner_text())
        for section in panel.locator(".djdt-sig-section[data-signal]:not([data-signal='init'])").all()
    }
    assert {s["signal"]: s["count"] for s in data["signals"]} == shown == {"user_login_failed": 1}
    for secret in ("hunter2", "demo-token-5f2a9c"):
        assert secret not in text


def test_copy_as_text_puts_the_text_table_on_the_clipboard(page, shadow_demo: DemoServer):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    toolbar = Toolbar(page, shadow_demo).visit("/saves/twice/")
    panel = toolbar.open_panel()
    panel.locator('button[data-sig-action="copy"]').click()
    expect(panel.locator(".djdt-sig-shown")).to_have_text("Copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith("6 signals: 2 saves")
    assert "redundant save: shop.Product #" in copied
    assert "post_save (2)" in copied


def test_the_async_page_names_the_views_own_await_lines(page, demo: DemoServer):
    toolbar = Toolbar(page, demo).visit("/async/")
    panel = toolbar.open_panel()
    sites = toolbar.section("post_save").locator("tr.djdt-sig-event td:last-child code")
    texts = [text for text in sites.all_inner_texts() if text]
    assert len(texts) == 2
    assert all(re.fullmatch(r"shop/views\.py:\d+ in async_view", text) for text in texts), texts
    assert texts[0] != texts[1]
    expect(panel.locator(".djdt-sig-findings")).not_to_contain_text("an unknown place")
    expect(panel.locator('.djdt-sig-finding[data-kind="saved_again"]')).to_contain_text("in async_view")
