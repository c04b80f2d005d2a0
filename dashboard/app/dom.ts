/**
 * The dashboard's small DOM helper: typed element builders (text is never parsed as HTML),
 * inline error boxes, datalists and form wiring. Views keep the elements they build, so no
 * code looks elements up by id.
 */
import { errorText } from "./format.js";

export type Child = Node | string | null | undefined | false;
/** Attributes, or `on<event>` listeners; null, undefined and false leave the attribute out. */
export type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

function apply(el: Element, attrs: Attrs | null | undefined, children: readonly Child[]): void {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value !== "function") el.setAttribute(name, value === true ? "" : String(value));
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else throw new TypeError(`attribute ${name} of <${el.tagName.toLowerCase()}> is a function; listeners are named on<event>`);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs, children);
  return el;
}

/** An alert box for a view's errors, hidden while empty. */
export function errorBox(testId: string): HTMLDivElement {
  return h("div", { class: "error", "data-testid": testId, role: "alert", hidden: true });
}

/** Shows an error (or a plain message) in an error box. */
export function showError(box: HTMLElement, e: unknown): void {
  box.textContent = typeof e === "string" ? e : errorText(e);
  box.hidden = false;
}

export function clearError(box: HTMLElement): void {
  box.textContent = "";
  box.hidden = true;
}

/** A table row with one cell spanning the table, for "nothing here" notes. */
export function noteRow(columns: number, text: string): HTMLTableRowElement {
  return h("tr", null, h("td", { colspan: columns, class: "muted" }, text));
}

export function setDatalist(list: HTMLDataListElement, values: readonly string[]): void {
  list.replaceChildren(...values.map((value) => h("option", { value })));
}

/** Runs `action` on submit instead of letting the browser post the form. */
export function onSubmit(form: HTMLFormElement, action: () => unknown): void {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void action();
  });
}

/** A `<table>` with a header row; `numeric` names the columns aligned right. */
export function table(testId: string, headers: readonly string[], body: HTMLTableSectionElement, numeric: readonly string[] = []): HTMLTableElement {
  const head = h("tr", null, ...headers.map((title) => h("th", { class: numeric.includes(title) ? "num" : null }, title)));
  return h("table", { "data-testid": testId }, h("thead", null, head), body);
}
