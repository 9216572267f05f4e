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
        const sectionSignal = section.dataset.signal;
        const bundles = section.querySelectorAll(":scope > table > tbody");
        for (const bundle of bundles) {
            let inBundle = 0;
            const line = bundle.querySelector(":scope > tr.djdt-sig-group-line");
            const rows = bundle.querySelectorAll(":scope > tr[data-sender]:not(.djdt-sig-group-line)");
            for (const row of rows) {
                const show = matches(row, sectionSignal);
                setHidden(row, !show);
                // The stack trace row, just after its event, follows it whether it is open or not.
                const details = row.nextElementSibling;
                if (details?.id.startsWith("sigDetails_")) {
                    setHidden(details, !show);
                }
                inBundle += show;
                total += 1;
            }
            visible += inBundle;
            if (line) {
                // A group's line stays while its own text or one of its rows matches; the text filter shows
                // the matching rows of a folded group.
                const lineShown = inBundle > 0 || matches(line, sectionSignal);
                setHidden(line, !lineShown);
                bundle.classList.toggle("djdt-sig-searching", Boolean(text) && inBundle > 0);
                visible += lineShown && inBundle === 0;
            }
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
    const covers = panel.querySelector(".djdt-sig-covers");
    if (covers) {
        covers.hidden = !filtered;
    }
    const none = panel.querySelector(".djdt-sig-nomatch");
    if (none) {
        none.hidden = shown > 0 || total === 0;
    }
}

function clearFilters(panel) {
    for (const control of panel.querySelectorAll("[data-sig-filter]")) {
        control.value = "";
    }
    filter(panel);
}

// Bring listed rows into view: unfold their section and group, drop a filter that hides them, outline them,
// scroll the first to the middle and give it the focus (so the keyboard carries on from there). Used by the
// findings' links, the rows' marks and "stack as #N"; a plain `href="#..."` does nothing inside the
// toolbar's shadow root.
function reveal(panel, targets) {
    if (!targets.length) {
        return;
    }
    if (targets.some((target) => target.closest(`.${HIDDEN}`))) {
        clearFilters(panel);
    }
    for (const marked of panel.querySelectorAll(".djdt-sig-target")) {
        marked.classList.remove("djdt-sig-target");
    }
    for (const target of targets) {
        const section = target.closest(".djdt-sig-section");
        if (section) {
            fold(section, false);
        }
        const bundle = target.closest(".djdt-sig-bundle");
        if (bundle) {
            openGroup(bundle, true);
        }
        target.classList.add("djdt-sig-target");
    }
    const first = targets[0];
    first.setAttribute("tabindex", "-1");
    first.scrollIntoView({ block: "center" });
    first.focus({ preventScroll: true });
}

function openGroup(bundle, open) {
    bundle.classList.toggle("djdt-sig-folded", !open);
    bundle.querySelector(".djdt-sig-open")?.setAttribute("aria-expanded", String(open));
}

function rowsOf(panel, seqs) {
    return seqs
        .split(" ")
        .map((seq) => panel.querySelector(`tr.djdt-sig-event[data-seq="${CSS.escape(seq)}"]`))
        .filter(Boolean);
}

function follow(panel, link) {
    if (link.classList.contains("djdt-sig-goto")) {
        reveal(panel, rowsOf(panel, link.dataset.seqs));
    } else if (link.classList.contains("djdt-sig-stack-as")) {
        const rows = rowsOf(panel, link.dataset.seq);
        reveal(panel, rows);
        // Open the stack it names, unless it is open already.
        const details = rows[0] && panel.querySelector(`#sigDetails_${CSS.escape(link.dataset.seq)}`);
        if (details && !details.classList.contains("djSelected")) {
            rows[0].querySelector("button.djToggleSwitch")?.click();
        }
    } else {
        const id = link.getAttribute("href").slice(1);
        const finding = panel.querySelector(`[id="${CSS.escape(id)}"]`);
        reveal(panel, finding ? [finding] : []);
    }
}

async function copyText(button) {
    const status = button.closest(".djdt-sig-controls")?.querySelector(".djdt-sig-shown");
    try {
        const response = await fetch(button.dataset.url, { credentials: "same-origin" });
        if (!response.ok) {
            throw new Error(String(response.status));
        }
        await navigator.clipboard.writeText(await response.text());
        if (status) {
            status.textContent = button.dataset.done;
        }
    } catch {
        if (status) {
            status.textContent = button.dataset.failed;
        }
    }
}

function setUp() {
    const panel = debugElement()?.querySelector(`#${PANEL_ID} .djdt-sig`);
    if (!panel || panel.dataset.sigReady) {
        return;
    }
    let timer;
    panel.addEventListener("click", (event) => {
        const link = event.target.closest("a.djdt-sig-goto, a.djdt-sig-stack-as, a.djdt-sig-mark");
        if (link && panel.contains(link)) {
            event.preventDefault();
            follow(panel, link);
            return;
        }
        const button = event.target.closest("button");
        if (!button || !panel.contains(button)) {
            return;
        }
        if (button.classList.contains("djdt-sig-fold")) {
            const section = button.closest(".djdt-sig-section");
            fold(section, !section.classList.contains(COLLAPSED));
        } else if (button.classList.contains("djdt-sig-open")) {
            const bundle = button.closest(".djdt-sig-bundle");
            openGroup(bundle, bundle.classList.contains("djdt-sig-folded"));
        } else if (button.dataset.sigAction === "copy") {
            copyText(button);
        } else if (button.dataset.sigAction) {
            const collapse = button.dataset.sigAction === "collapse";
            for (const section of panel.querySelectorAll(".djdt-sig-section")) {
                fold(section, collapse);
            }
            for (const bundle of panel.querySelectorAll(".djdt-sig-bundle:has(.djdt-sig-group-line)")) {
                openGroup(bundle, !collapse);
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
