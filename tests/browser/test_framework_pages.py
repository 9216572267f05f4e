"""Pages Django drives, read through the real toolbar in Chromium (issue 15): the admin's login, change form
and product list, a login with database sessions, and the shop's own list with ``select_related``.

The admin's POSTs answer with a redirect, so, as a person would, each is opened from djdt's History panel.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.demo_server import DemoServer
from tests.browser.toolbar import Toolbar

pytestmark = pytest.mark.browser


def submit_post(page: Any, button: str) -> str:
    """Click ``button`` of a form and follow the redirect; the POST's toolbar request id, which djdt sends in
    the ``djdt-request-id`` header (what its History panel lists it by)."""
    with page.expect_response(lambda r: r.request.method == "POST") as answer, page.expect_navigation():
        page.click(button)
    request_id: str = answer.value.headers["djdt-request-id"]
    page.wait_for_selector("#djDebugPanelList", state="visible")
    return request_id


def admin_login(page: Any, server: DemoServer) -> str:
    page.goto(server.url("/admin/login/?next=/admin/"))
    page.fill("#id_username", "alice")
    page.fill("#id_password", "wonderland")
    return submit_post(page, "input[type=submit]")


def switch_to_post(page: Any, request_id: str) -> None:
    """Open djdt's History panel and make the POST ``request_id`` the toolbar's request, as a person would."""
    page.click("#djDebugPanelList a.HistoryPanel")
    page.wait_for_load_state("networkidle")
    post = page.locator(f'#djdtHistoryRequests tr[data-request-id="{request_id}"]')
    expect(post).to_contain_text("POST")
    post.locator(".switchHistory").click()
    expect(post).to_have_class(re.compile(r"djdt-highlighted"))
    page.click("#HistoryPanel .djDebugClose")


def every_row_has_a_call_site(toolbar: Toolbar) -> None:
    rows = toolbar.panel.locator("tr.djdt-sig-event")
    assert rows.count() > 0
    for i in range(rows.count()):
        expect(rows.nth(i).locator("td.djdt-sig-site code")).not_to_be_empty()
    expect(toolbar.panel).not_to_contain_text("an unknown place")


def test_the_admin_login_post_shows_framework_call_sites_and_counts_no_redundant_save(page, shadow_demo):
    login = admin_login(page, shadow_demo)
    toolbar = Toolbar(page, shadow_demo)
    switch_to_post(page, login)
    panel = toolbar.open_panel()
    every_row_has_a_call_site(toolbar)
    expect(panel.locator(".djdt-sig-framework").first).to_have_text("framework code")
    assert toolbar.stat("redundant_saves") == "0"
    sessions = panel.locator('.djdt-sig-framework-findings li[data-kind="saved_again"]')
    expect(sessions).to_contain_text("sessions.Session")
    expect(sessions).to_contain_text("This is how Django works")
    expect(sessions).to_have_attribute("data-severity", "info")
    expect(panel.locator("ul.djdt-sig-findings:not(.djdt-sig-framework-findings) li")).to_have_count(0)


def test_an_admin_edit_is_framework_code_with_advice_about_save_model(page, shadow_demo):
    admin_login(page, shadow_demo)
    page.goto(shadow_demo.url("/django/admin-edit/"))
    page.click("a.demo-link")
    stock = page.locator("#id_stock")
    stock.fill(str(int(stock.input_value()) % 20 + 1))
    edit = submit_post(page, "input[name=_save]")
    toolbar = Toolbar(page, shadow_demo)
    switch_to_post(page, edit)
    panel = toolbar.open_panel()
    every_row_has_a_call_site(toolbar)
    expect(toolbar.section("post_save").locator("td.djdt-sig-site").first).to_contain_text("in save_model")
    assert toolbar.stat("redundant_saves") == "0"
    finding = panel.locator('.djdt-sig-framework-findings li[data-kind="update_fields_would_do"]')
    expect(finding).to_contain_text("ModelAdmin.save_model()")
    expect(finding).to_have_attribute("data-severity", "notice")
    # Rows the framework saved are not marked as the developer's redundant saves.
    expect(toolbar.section("post_save").locator("tr.djdt-sig-redundant")).to_have_count(0)


def test_the_admin_product_list_shows_distinct_rows_beside_instances(page, shadow_demo):
    admin_login(page, shadow_demo)
    toolbar = Toolbar(page, shadow_demo).visit("/admin/shop/product/")
    panel = toolbar.open_panel()
    category = toolbar.section("init").locator('tr[data-sender="shop.Category"]')
    expect(category.locator("td").nth(2)).to_have_text("105")
    expect(category.locator('td[data-stat="rows"]')).to_have_text("5")
    finding = panel.locator('.djdt-sig-framework-findings li[data-kind="duplicate_rows"]')
    expect(finding).to_contain_text("105 shop.Category instances were built from 5 rows")
    expect(finding).to_contain_text("list_select_related")


def test_a_login_with_database_sessions_lists_the_sessions_two_saves_apart(page, shadow_demo):
    toolbar = Toolbar(page, shadow_demo).visit("/auth/login/", submit=True)
    panel = toolbar.open_panel()
    every_row_has_a_call_site(toolbar)
    assert toolbar.stat("redundant_saves") == "0"
    expect(panel.locator('.djdt-sig-framework-findings li[data-kind="saved_again"]')).to_contain_text(
        "login() cycles the key"
    )


def test_the_shops_own_select_related_list_is_flagged_with_its_call_site(page, shadow_demo):
    toolbar = Toolbar(page, shadow_demo).visit("/load/select-related/")
    panel = toolbar.open_panel()
    finding = panel.locator('ul.djdt-sig-findings li[data-kind="duplicate_rows"]')
    expect(finding).to_have_count(1)
    expect(finding).to_contain_text("shop/views.py")
    expect(finding).not_to_have_attribute("data-framework", "true")
    category = toolbar.section("init").locator('tr[data-sender="shop.Category"]')
    expect(category.locator('td[data-stat="rows"]')).to_have_text("5")


def test_the_shops_own_save_on_the_admin_page_is_still_a_problem_with_its_call_site(page, shadow_demo):
    admin_login(page, shadow_demo)
    page.goto(shadow_demo.url("/django/admin-edit/"))
    page.click("a.demo-link")
    page.fill("#id_sku", page.locator("#id_sku").input_value().lower())
    edit = submit_post(page, "input[name=_save]")
    toolbar = Toolbar(page, shadow_demo)
    switch_to_post(page, edit)
    panel = toolbar.open_panel()
    every_row_has_a_call_site(toolbar)
    assert toolbar.stat("redundant_saves") == "1"
    own = panel.locator('ul.djdt-sig-findings:not(.djdt-sig-framework-findings) li[data-kind="saved_again"]')
    expect(own).to_contain_text("shop/admin.py")
    expect(own).to_contain_text("in save_related")
    expect(own).to_have_attribute("data-severity", "problem")
