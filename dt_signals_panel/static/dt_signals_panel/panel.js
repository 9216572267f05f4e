// The Signal activity panel in the browser: fold sections, filter rows by signal, model and text.
//
// djdt loads this file as a module from the panel's `scripts` (never as an inline script, so a strict
// Content-Security-Policy allows it), after it has put the panel's HTML in place. A module runs once per
// page, so it sets up the panel now and again on each `djdt.panel.render` event (the panel re-opened, or
// another request chosen in the history panel). It styles nothing itself: it toggles classes and `hidden`.

const PANEL_ID = "SignalActivityPanel";
const HIDDEN = "djdt-sig-hidden";
const COLLAPSED = "djdt-sig-collapsed";
const listening = new WeakSet();
const texts = new WeakMap();

// The toolbar's root element, inside its shadow root when it has one (djdt 7+), in the page otherwise.
function debugElement() {
    const root = document.getElementById("djDebugRoot");
    const scope = root?.shadowRoot ?? document;
    return scope.querySelector("#djDebug");
}

function textOf(element) {
    let text = texts.get(element);
    if (text === undefined) {
        text = element.textContent.replace(/\s+/g, " ").toLowerCase();
        texts.set(element, text);
    }
    return text;
}

function setHidden(element, hidden) {
    element.classList.toggle(HIDDEN, hidden);
}

function fold(section, collapse) {
    section.classList.toggle(COLLAPSED, collapse);
    section.querySelector(".djdt-sig-fold")?.setAttribute("aria-expanded", String(!collapse));
}

function filter(panel) {
    const value = (name) => panel.querySelector(`[data-sig-filter="${name}"]`)?.value ?? "";
    const signal = value("signal");
    const sender = value("sender");
    const text = value("text").trim().replace(/\s+/g, " ").toLowerCase();
    const filtered = Boolean(signal || sender || text);
    // The text is looked for, as typed, in what the row shows and in the name of its signal.
    const matches = (element, elementSignal) =>
        (!signal || elementSignal === signal) &&
        (!sender || element.dataset.sender === sender) &&
        (!text || elementSignal.includes(text) || textOf(element).includes(text));

    let shown = 0;
    let total = 0;
    for (const section of panel.querySelectorAll(".djdt-sig-section[data-signal]")) {
        let visible = 0;
        for (const row of section.querySelectorAll(":scope > table > tbody > tr[data-sender]")) {
            const show = matches(row, section.dataset.signal);
            setHidden(row, !show);
            // The stack trace row, just after its event, follows it whether it is open or not.
            const details = row.nextElementSibling;
            if (details?.id.startsWith("sigDetails_")) {
                setHidden(details, !show);
            }
            visible += show;
            total += 1;
        }
        shown += visible;
        // A signal with nothing left to show is hidden, header and all.
        const empty = !section.querySelector(":scope > table > tbody > tr[data-sender]");
        setHidden(section, empty ? filtered : visible === 0);
    }
    const receivers = panel.querySelector(".djdt-sig-receivers");
    if (receivers) {
        let visible = 0;
        for (const row of receivers.querySelectorAll("tbody > tr")) {
            const show =
                (!signal || row.dataset.signals.split(" ").includes(signal)) && (!text || textOf(row).includes(text));
            setHidden(row, !show);
            visible += show;
        }
        setHidden(receivers, visible === 0);
    }
    const chronological = panel.querySelector(".djdt-sig-chronological");
    if (chronological) {
        let visible = 0;
        for (const item of chronological.querySelectorAll("li[data-sender]")) {
            const show = matches(item, item.dataset.signal);
            setHidden(item, !show);
            visible += show;
        }
        setHidden(chronological, visible === 0);
    }
    const status = panel.querySelector(".djdt-sig-shown");
    if (status) {
        status.textContent = filtered
            ? status.dataset.template.replace("{shown}", shown).replace("{total}", total)
            : "";
    }
    const none = panel.querySelector(".djdt-sig-nomatch");
    if (none) {
        none.hidden = shown > 0 || total === 0;
    }
}

function setUp() {
    const panel = debugElement()?.querySelector(`#${PANEL_ID} .djdt-sig`);
    if (!panel || panel.dataset.sigReady) {
        return;
    }
    let timer;
    panel.addEventListener("click", (event) => {
        const button = event.target.closest("button");
        if (!button || !panel.contains(button)) {
            return;
        }
        if (button.classList.contains("djdt-sig-fold")) {
            const section = button.closest(".djdt-sig-section");
            fold(section, !section.classList.contains(COLLAPSED));
        } else if (button.dataset.sigAction) {
            for (const section of panel.querySelectorAll(".djdt-sig-section")) {
                fold(section, button.dataset.sigAction === "collapse");
            }
        }
    });
    panel.addEventListener("change", (event) => {
        if (event.target.dataset.sigFilter) {
            filter(panel);
        }
    });
    panel.addEventListener("input", (event) => {
        if (event.target.dataset.sigFilter === "text") {
            clearTimeout(timer);
            timer = setTimeout(() => filter(panel), 150);
        }
    });
    // Enter in the text box filters at once rather than submitting anything.
    panel.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && event.target.dataset.sigFilter === "text") {
            event.preventDefault();
            clearTimeout(timer);
            filter(panel);
        }
    });
    const controls = panel.querySelector(".djdt-sig-controls");
    if (controls) {
        controls.hidden = false;
    }
    panel.dataset.sigReady = "true";
}

function listen() {
    const djDebug = debugElement();
    if (djDebug && !listening.has(djDebug)) {
        listening.add(djDebug);
        djDebug.addEventListener("djdt.panel.render", (event) => {
            if (event.detail?.panelId === PANEL_ID) {
                setUp();
            }
        });
    }
    setUp();
}

// With RENDER_PANELS the module can run while the page is still being parsed.
if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", listen);
} else {
    listen();
}
