from __future__ import annotations

import pytest

from tests.browser.toolbar import Toolbar

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/saves/restock/", "/saves/twice/", "/receivers/robust/", "/auth/direct-failed/", "/async/", "/m2m/tags/", "/load/many/"])
def test_look(page, shadow_demo, path):
    toolbar = Toolbar(page, shadow_demo).visit(path)
    toolbar.open_panel()
    page.mouse.move(0, 0)
    name = path.strip("/").replace("/", "-")
    h = page.evaluate("""() => { const r = document.getElementById('djDebugRoot'); const s = r && r.shadowRoot ? r.shadowRoot : document; return s.querySelector('#SignalActivityPanel .djdt-sig').scrollHeight; }""")
    print(name, "height", h)
    page.screenshot(path=f"/tmp/reading-{name}.png", full_page=False)
