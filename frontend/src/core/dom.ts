// DOM helpers. User-supplied strings only ever reach the page through textContent and
// attribute setters, never an HTML-parsing sink (the iframe shares TensorBoard's origin).

export interface ElementOptions {
  className?: string;
  text?: string;
  attrs?: Record<string, string>;
  title?: string;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElementOptions = {},
  children: Node[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined) node.textContent = options.text;
  if (options.title !== undefined) node.title = options.title;
  for (const [name, value] of Object.entries(options.attrs ?? {})) node.setAttribute(name, value);
  for (const child of children) node.appendChild(child);
  return node;
}

export function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  if (!control.hasAttribute("aria-label")) control.setAttribute("aria-label", text);
  return el("label", { className: "ml-field" }, [el("span", { text }), control]);
}

export function select(options: Array<[string, string]>, value?: string): HTMLSelectElement {
  const node = el("select");
  replaceOptions(node, options, value);
  return node;
}

export function replaceOptions(node: HTMLSelectElement, options: Array<[string, string]>, value?: string): void {
  node.replaceChildren(...options.map(([v, label]) => el("option", { text: label, attrs: { value: v } })));
  if (value !== undefined && options.some(([v]) => v === value)) node.value = value;
}

export function download(filename: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = el("a", { attrs: { href: url, download: filename } });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svgEl<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}
