"""The Signal activity panel as a person sees it: the demo shop in a real Chromium, toolbar open.

Tests taking the ``demo`` fixture run twice: with djdt's shadow DOM (djdt 7+'s default) and without it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.demo_server import DemoServer
from tests.browser.toolbar import Toolbar

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parent.parent.parent / "docs"


def test_the_demo_runs_with_and_without_the_shadow_dom(page, demo: DemoServer):
    toolbar = Toolbar(page, demo).visit("/")
    assert toolbar.in_shadow_root() is demo.shadow_dom
    panel = toolbar.open_panel()
    expect(panel).to_contain_text("No auth or model signal was sent during this request.")
    expect(panel.locator(".djdt-sig-controls")).to_be_hidden()


def test_summary_groups_and_counts_of_a_redundant_save(page, demo: DemoServer):
    toolbar = Toolbar(page, demo).visit("/saves/twice/")
    panel = toolbar.open_panel()
    assert (toolbar.stat("signals"), toolbar.stat("saves"), toolbar.stat("redundant_saves")) == ("6", "2", "1")
    assert toolbar.stat("failed_logins") == "0"
    expect(panel.locator('[data-stat="slowest_receiver"]')).to_contain_text("shop.receivers.index_product")
    for signal, count in (("init", "1"), ("pre_save", "2"), ("post_save", "2")):
        expect(toolbar.section(signal).locator("h4 .djdt-sig-count")).to_have_text(count)
        expect(toolbar.section(signal)).to_be_visible()
    expect(toolbar.section("pre_save").locator("tr.djdt-sig-event")).to_have_count(2)
    finding = panel.locator('.djdt-sig-finding[data-kind="saved_again"]')
    expect(finding).to_contain_text(re.compile(r"redundant save: shop\.Product #\d+ was saved 2 times"))
    # Both saves of the row are marked where they sit in the table.
    expect(toolbar.section("post_save").locator("tr.djdt-sig-marked")).to_have_count(2)
    # Numbers line up on the right, though djdt's reset aligns every cell left.
    cell = toolbar.section("pre_save").locator("td.djdt-sig-num").first
    assert cell.evaluate("(td) => getComputedStyle(td).textAlign") == "right"


def test_credential_report_puts_no_raw_secret_in_the_dom(page, demo: DemoServer):
    toolbar = Toolbar(page, demo).visit("/auth/direct-failed/")
    panel = toolbar.open_panel()
    assert toolbar.stat("failed_logins") == "1"
    assert toolbar.stat("credentials_in_clear") == "2"
    rows = toolbar.section("user_login_failed").locator(".djdt-sig-credentials tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="username")).to_contain_text("not sensitive")
    for key in ("password", "authorization"):
        expect(rows.filter(has_text=key)).to_contain_text("looks sensitive but reached receivers in clear")
    expect(panel.locator('.djdt-sig-finding[data-kind="credential_in_clear"]')).to_have_count(2)
    html = toolbar.toolbar_html()
    assert "hunter2" not in html
    assert "demo-token-5f2a9c" not in html
    assert "hunter2" not in page.content()


def test_second_factor_secrets_stay_masked_after_a_real_login_post(page, shadow_demo: DemoServer):
    toolbar = Toolbar(page, shadow_demo).visit("/auth/second-factor/", submit=True)
    toolbar.open_panel()
    rows = toolbar.section("user_login_failed").locator(".djdt-sig-credentials tbody tr")
    expect(rows.filter(has_text="password")).to_contain_text("masked by Django")
    for key in ("otp", "pin"):
        expect(rows.filter(has_text=key)).to_contain_text("looks sensitive but reached receivers in clear")
    html = toolbar.toolbar_html()
    for secret in ("wonderland", "123456", "493817"):
        assert secret not in html


def test_stack_trace_toggle_opens_and_closes(page, demo: DemoServer):
    toolbar = Toolbar(page, demo).visit("/saves/create/")
    toolbar.open_panel()
    row = toolbar.section("pre_save").locator("tr.djdt-sig-event").first
    seq = row.get_attribute("data-seq")
    toggle = row.locator("button.djToggleSwitch")
    stack = toolbar.panel.locator(f"#sigDetails_{seq}")
    expect(stack).to_be_hidden()
    toggle.click()
    expect(stack).to_be_visible()
    expect(stack.locator("pre.djdt-stack")).to_contain_text("create_product")
    expect(toggle).to_have_text("-")
    toggle.click()
    expect(stack).to_be_hidden()
    expect(toggle).to_have_text("+")


def test_chronological_view_nests_what_a_receiver_sent(page, demo: DemoServer):
    toolbar = Toolbar(page, demo).visit("/receivers/chain/")
    toolbar.open_panel()
    items = toolbar.panel.locator(".djdt-sig-chrono li")
    expect(items).to_have_count(4)
    depths = [
        (item.get_attribute("data-signal"), item.get_attribute("data-sender"), item.get_attribute("data-depth"))
        for item in items.all()
    ]
    assert depths == [
        ("pre_save", "shop.Order", "0"),
        ("post_save", "shop.Order", "0"),
        ("pre_save", "shop.AuditLog", "1"),
        ("post_save", "shop.AuditLog", "1"),
    ]
    # Nested means indented on screen, not only marked in the HTML.
    x = [item.bounding_box()["x"] for item in items.all()]
    assert x[2] == x[3] > x[1] == x[0]


def test_filters_narrow_the_rows_by_signal_model_and_text(page, demo: DemoServer):
    toolbar = Toolbar(page, demo).visit("/receivers/chain/")
    panel = toolbar.open_panel()
    events = panel.locator("tr.djdt-sig-event:visible")
    expect(events).to_have_count(4)
    status = panel.locator(".djdt-sig-shown")

    panel.locator('select[data-sig-filter="signal"]').select_option("post_save")
    expect(events).to_have_count(2)
    expect(toolbar.section("pre_save")).to_be_hidden()
    expect(toolbar.section("init")).to_be_hidden()
    expect(status).to_have_text("2 of 6 rows shown")

    panel.locator('select[data-sig-filter="sender"]').select_option("shop.AuditLog")
    expect(events).to_have_count(1)
    expect(panel.locator(".djdt-sig-chrono li:visible")).to_have_count(1)

    panel.locator('select[data-sig-filter="signal"]').select_option("")
    panel.locator('select[data-sig-filter="sender"]').select_option("")
    text = panel.locator('input[data-sig-filter="text"]')
    text.fill("receivers.audit_order")  # the receiver's dotted name: only Order's post_save ran it
    expect(events).to_have_count(1)
    expect(events.first).to_contain_text("shop.Order")
    expect(panel.locator(".djdt-sig-receivers tbody tr:visible")).to_have_count(1)

    text.fill("no such thing anywhere")
    expect(events).to_have_count(0)
    expect(panel.locator(".djdt-sig-nomatch")).to_be_visible()
    text.fill("")
    expect(events).to_have_count(4)
    expect(status).to_have_text("")


def test_sections_fold_and_filters_are_reached_by_keyboard(page, shadow_demo: DemoServer):
    toolbar = Toolbar(page, shadow_demo).visit("/saves/twice/")
    panel = toolbar.open_panel()
    fold = toolbar.section("pre_save").locator(".djdt-sig-fold")
    table = toolbar.section("pre_save").locator("table")
    fold.focus()
    page.keyboard.press("Enter")
    expect(table).to_be_hidden()
    expect(fold).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Space")
    expect(table).to_be_visible()

    signal = panel.locator('select[data-sig-filter="signal"]')
    signal.focus()
    page.keyboard.press("Tab")
    expect(panel.locator('select[data-sig-filter="sender"]')).to_be_focused()
    page.keyboard.press("Tab")
    expect(panel.locator('input[data-sig-filter="text"]')).to_be_focused()
    page.keyboard.type("post_save")
    page.keyboard.press("Enter")
    expect(toolbar.section("pre_save")).to_be_hidden()
    expect(toolbar.section("post_save").locator("tr.djdt-sig-event")).to_have_count(2)
    expect(toolbar.section("post_save")).to_be_visible()
    page.keyboard.press("Tab")
    expect(panel.locator('[data-sig-action="collapse"]')).to_be_focused()
    page.keyboard.press("Enter")
    expect(toolbar.section("post_save").locator("table")).to_be_hidden()

    # Closed and opened again, the panel is set up once: one click still folds one section once.
    toolbar.close_panel()
    toolbar.open_panel()
    toolbar.panel.locator('[data-sig-action="expand"]').click()
    fold = toolbar.section("post_save").locator(".djdt-sig-fold")
    fold.click()
    expect(fold).to_have_attribute("aria-expanded", "false")


def test_long_values_show_one_line_and_open_in_full(page, demo: DemoServer):
    toolbar = Toolbar(page, demo).visit("/saves/create/")
    toolbar.open_panel()
    value = toolbar.section("post_save").locator(".djdt-sig-long summary").first
    expect(value).to_contain_text("glazed deep blue")
    # Layout may still be settling: wait (up to 5 s) for the cut, which never comes if a long value is not cut.
    page.wait_for_function("(s) => s.scrollWidth > s.clientWidth", arg=value.element_handle(), timeout=5000)
    cut = value.evaluate("(s) => [s.scrollWidth > s.clientWidth, s.getBoundingClientRect().height]")
    assert cut[0], "a long value is cut to one line"
    value.focus()
    page.keyboard.press("Enter")
    expect(value.locator("xpath=..")).to_have_attribute("open", "")
    opened = value.evaluate("(s) => [s.scrollWidth > s.clientWidth, s.getBoundingClientRect().height]")
    assert not opened[0], "opened, the whole value shows"
    assert opened[1] >= cut[1]


def test_no_inline_script_or_style_and_a_strict_csp_is_enough(page, demo: DemoServer):
    csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"

    def with_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": csp})

    page.route(re.compile(r".*/receivers/chain/$"), with_csp)
    toolbar = Toolbar(page, demo).visit("/receivers/chain/")
    panel = toolbar.open_panel()  # waits for panel.js: the module ran under the policy
    assert panel.locator("script").count() == 0
    assert panel.locator(".djdt-sig [style]").count() == 0
    assert panel.locator(".djdt-sig [onclick], .djdt-sig [onchange], .djdt-sig [oninput]").count() == 0
    panel.locator('select[data-sig-filter="signal"]').select_option("pre_save")
    expect(panel.locator("tr.djdt-sig-event:visible")).to_have_count(2)
    # The page fixture fails the test on any console error, a CSP violation among them.


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_reads_well_in_both_themes(page, demo: DemoServer, theme: str):
    toolbar = Toolbar(page, demo).visit("/auth/direct-failed/")
    if theme == "dark":
        toolbar.dark_theme()
    panel = toolbar.open_panel()
    samples = {
        "summary": panel.locator(".djdt-sig-summary li").first,
        "alert tile": panel.locator('[data-stat="credentials_in_clear"]'),
        "finding": panel.locator(".djdt-sig-finding").first,
        "filter label": panel.locator(".djdt-sig-controls label").first,
        "filter box": panel.locator('input[data-sig-filter="text"]'),
        "section heading": panel.locator(".djdt-sig-fold").first,
        "count": panel.locator(".djdt-sig-count").first,
        "cell": panel.locator("tr.djdt-sig-event td").nth(2),
        "argument name": panel.locator(".djdt-sig-args dt").first,
        "argument value": panel.locator(".djdt-sig-args dd").first,
        "credential in clear": panel.locator(".djdt-sig-cred-sensitive_in_clear td").first,
        "muted": panel.locator(".djdt-sig-muted").first,
        "chronological": panel.locator(".djdt-sig-chrono li").first,
    }
    ratios = {name: round(toolbar.contrast(locator), 2) for name, locator in samples.items()}
    poor = {name: ratio for name, ratio in ratios.items() if ratio < 4.5}
    assert not poor, f"{theme}: text below WCAG AA contrast (4.5): {poor}"


@pytest.mark.parametrize(
    ("theme", "path", "submit"),
    [("light", "/saves/twice/", False), ("dark", "/auth/second-factor/", True)],
)
def test_screenshots_of_the_demo(page, shadow_demo: DemoServer, tmp_path: Path, theme: str, path: str, submit: bool):
    """The README's pictures. ``make screenshots`` sets SCREENSHOTS_DIR=docs to write them there."""
    toolbar = Toolbar(page, shadow_demo).visit(path, submit=submit)
    if theme == "dark":
        toolbar.dark_theme()
    toolbar.open_panel()
    page.mouse.move(0, 0)
    out = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path) / f"panel-{theme}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out), animations="disabled", caret="hide")
    assert out.stat().st_size > 10_000


def test_a_page_with_hundreds_of_events_filters_down_to_one_product(page, shadow_demo: DemoServer):
    toolbar = Toolbar(page, shadow_demo).visit("/saves/restock/")
    panel = toolbar.open_panel()
    assert toolbar.stat("saves") == "200"
    # SHOWN_PER_SIGNAL (100) rows per signal are listed, folded under their group's line.
    expect(toolbar.section("post_save").locator("tr.djdt-sig-event")).to_have_count(100)
    events = panel.locator("tr.djdt-sig-event:visible")
    expect(events).to_have_count(0)
    panel.locator('[data-sig-action="expand"]').click()
    expect(events).to_have_count(200)
    panel.locator('input[data-sig-filter="text"]').fill("grinder no. 42")
    expect(events).to_have_count(2)
    expect(panel.locator(".djdt-sig-shown")).to_have_text("2 of 201 rows shown")
    expect(panel.locator(".djdt-sig-chrono li:visible")).to_have_count(2)
    # Folding every section leaves a page of headings to scan.
    panel.locator('[data-sig-action="collapse"]').click()
    expect(panel.locator(".djdt-sig-section table:visible")).to_have_count(0)


def test_panel_is_set_up_again_after_switching_requests_in_the_history_panel(page, demo: DemoServer):
    """The module is loaded once per page; a panel rendered later is set up from djdt.panel.render."""
    Toolbar(page, demo).visit("/receivers/chain/")
    chain_id = page.locator("#djDebug").get_attribute("data-request-id")
    toolbar = Toolbar(page, demo).visit("/saves/twice/")
    toolbar.open_panel()
    assert toolbar.stat("redundant_saves") == "1"
    toolbar.close_panel()

    page.click("#djDebugPanelList a.HistoryPanel")
    # djdt's history.js arrives as that panel's script, after the click: let it load before using it.
    page.wait_for_load_state("networkidle")
    chain = page.locator(f'#djdtHistoryRequests tr[data-request-id="{chain_id}"]')
    chain.locator(".switchHistory").click()
    expect(chain).to_have_class(re.compile(r"djdt-highlighted"))
    page.click("#HistoryPanel .djDebugClose")

    panel = toolbar.open_panel()
    assert toolbar.stat("redundant_saves") == "0"
    expect(panel.locator(".djdt-sig-chrono li[data-sender='shop.AuditLog']")).to_have_count(2)
    panel.locator('select[data-sig-filter="sender"]').select_option("shop.AuditLog")
    expect(panel.locator("tr.djdt-sig-event:visible")).to_have_count(2)


def test_an_open_stack_trace_hides_and_returns_with_its_row(page, shadow_demo: DemoServer):
    toolbar = Toolbar(page, shadow_demo).visit("/saves/twice/")
    panel = toolbar.open_panel()
    first, second = toolbar.section("pre_save").locator("tr.djdt-sig-event").all()
    first.locator("button.djToggleSwitch").click()
    stack = panel.locator(f"#sigDetails_{first.get_attribute('data-seq')}")
    expect(stack).to_be_visible()
    text = panel.locator('input[data-sig-filter="text"]')
    text.fill("[price]")  # only the second save changed the price
    expect(first).to_be_hidden()
    expect(stack).to_be_hidden()
    expect(second).to_be_visible()
    text.fill("")
    expect(stack).to_be_visible()
