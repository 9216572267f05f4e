"""What a person does with the toolbar, as Playwright steps: open a page, open the panel, read it.

Playwright's CSS selectors go through open shadow roots, so the same selectors work whether djdt put the
toolbar in a shadow root or not.
"""

from __future__ import annotations

from typing import Any

from tests.browser.demo_server import DemoServer

PANEL_ID = "SignalActivityPanel"
PANEL = f"#{PANEL_ID}"

# The toolbar's whole DOM as HTML, from inside its shadow root when there is one.
TOOLBAR_HTML = """() => {
    const root = document.getElementById("djDebugRoot");
    const scope = root && root.shadowRoot ? root.shadowRoot : document;
    return scope.querySelector("#djDebug").outerHTML;
}"""

# WCAG contrast ratio of an element's text against what is painted behind it: the first opaque background
# among its ancestors, with translucent ones (djdt's highlighted rows) blended over it.
CONTRAST = """(element) => {
    const rgba = (css) => {
        const [r, g, b, a = 1] = css.match(/[\\d.]+/g).map(Number);
        return [r, g, b, a];
    };
    const layers = [];
    for (let node = element; node; node = node.parentElement || node.getRootNode().host) {
        const colour = rgba(getComputedStyle(node).backgroundColor);
        if (colour[3] > 0) {
            layers.push(colour);
            if (colour[3] === 1) break;
        }
    }
    let back = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) {
        back = [r * a + back[0] * (1 - a), g * a + back[1] * (1 - a), b * a + back[2] * (1 - a)];
    }
    const [fr, fg, fb, fa] = rgba(getComputedStyle(element).color);
    const fore = [fr * fa + back[0] * (1 - fa), fg * fa + back[1] * (1 - fa), fb * fa + back[2] * (1 - fa)];
    const luminance = (c) => {
        const [r, g, b] = c.map((v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const [hi, lo] = [luminance(fore), luminance(back)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
}"""


class Toolbar:
    """One browser tab on the demo, with the toolbar at hand."""

    def __init__(self, page: Any, server: DemoServer) -> None:
        self.page = page
        self.server = server

    def visit(self, path: str, *, submit: bool = False) -> Toolbar:
        self.page.goto(self.server.url(path))
        if submit:
            # The demo's login forms come filled in: submitting sends the POST whose signals we want.
            with self.page.expect_navigation():
                self.page.click("main form button[type=submit]")
        self.page.wait_for_selector("#djDebugPanelList", state="visible")
        return self

    def open_panel(self) -> Any:
        self.page.click(f"#djDebugPanelList a.{PANEL_ID}")
        # panel.js marks the panel once it has set it up: the module really ran.
        self.page.wait_for_selector(f"{PANEL} .djdt-sig[data-sig-ready]")
        # And its stylesheet applied: layout and colours are read right after (the <link> loads on its own).
        for link in self.panel.locator('link[rel="stylesheet"]').element_handles():
            self.page.wait_for_function("(link) => link.sheet !== null", arg=link)
        return self.panel

    def close_panel(self) -> None:
        self.page.click(f"{PANEL} .djDebugClose")
        self.page.wait_for_selector(PANEL, state="hidden")

    @property
    def panel(self) -> Any:
        return self.page.locator(PANEL)

    def section(self, signal: str) -> Any:
        return self.panel.locator(f'.djdt-sig-section[data-signal="{signal}"]')

    def stat(self, name: str) -> str:
        text: str = self.panel.locator(f'[data-stat="{name}"] strong').inner_text()
        return text

    def toolbar_html(self) -> str:
        html: str = self.page.evaluate(TOOLBAR_HTML)
        return html

    def in_shadow_root(self) -> bool:
        found: bool = self.page.evaluate("() => Boolean(document.getElementById('djDebugRoot')?.shadowRoot)")
        return found

    def dark_theme(self) -> None:
        """Click djdt's theme button until the toolbar is dark, as a person would."""
        for _ in range(3):
            if self.page.locator("#djDebug").get_attribute("data-theme") == "dark":
                return
            self.page.click("#djToggleThemeButton")
        assert self.page.locator("#djDebug").get_attribute("data-theme") == "dark"

    def contrast(self, locator: Any) -> float:
        ratio: float = locator.evaluate(CONTRAST)
        return ratio
