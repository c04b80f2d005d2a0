/**
 * The XML of the Alibaba Cloud RocketMQ HTTP protocol, both ways. Requests are tiny documents:
 * a root (`Message`, `ReceiptHandles`) whose children hold text, as CDATA (the Node SDK) or
 * entity-escaped (Java, Python, Go); the namespace is ignored, since each SDK sends another.
 * This parser reads exactly that much XML and refuses anything else (DOCTYPE, processing
 * instructions past the declaration, unbalanced tags) as malformed, so nothing expands or
 * recurses on untrusted input. Answers are written with every child as escaped text, no
 * attributes (xml2js would turn them into objects) and the namespace the Java SDK requires.
 */

export const NAMESPACE = "http://mq.aliyuncs.com/doc/v1";
export const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

export interface XmlElement {
  name: string;
  children: XmlElement[];
  /** The element's own text (CDATA and decoded entities), children's text excluded. */
  text: string;
}

export class MalformedXmlError extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*/;
/** Bounds on a request document: the protocol's are two levels deep and hold at most 17 elements. */
const MAX_DEPTH = 8;
const MAX_ELEMENTS = 1024;
const MAX_TAG_CHARS = 1024;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&([^;&]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(";")) throw new MalformedXmlError(`unterminated entity "${whole}"`);
    const named = ENTITIES[name];
    if (named !== undefined) return named;
    const code = /^#x([0-9a-fA-F]{1,6})$/.exec(name)?.[1] ?? /^#([0-9]{1,7})$/.exec(name)?.[1];
    if (code === undefined) throw new MalformedXmlError(`unknown entity "&${name};"`);
    const n = name.startsWith("#x") ? parseInt(code, 16) : parseInt(code, 10);
    if (!isXmlChar(n)) throw new MalformedXmlError(`character reference &${name}; is not an XML character`);
    return String.fromCodePoint(n);
  });
}

/** Characters XML 1.0 can carry at all (tab, newline, carriage return and the rest above U+001F). */
function isXmlChar(n: number): boolean {
  return n === 0x9 || n === 0xa || n === 0xd || (n >= 0x20 && n <= 0xd7ff) || (n >= 0xe000 && n <= 0xfffd) || (n >= 0x10000 && n <= 0x10ffff);
}

/** Parses a document into its root element; throws MalformedXmlError. */
export function parseXml(source: string): XmlElement {
  let at = 0;
  const skipSpace = () => {
    while (at < source.length && /\s/.test(source[at]!)) at++;
  };
  if (source.charCodeAt(0) === 0xfeff) at = 1;
  skipSpace();
  if (source.startsWith("<?xml", at)) {
    const end = source.indexOf("?>", at);
    if (end < 0) throw new MalformedXmlError("unterminated XML declaration");
    at = end + 2;
  }
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let elements = 0;
  for (;;) {
    if (stack.length === 0) {
      skipSpace();
      if (at >= source.length) break;
      if (root) throw new MalformedXmlError("content after the root element");
    }
    const lt = source.indexOf("<", at);
    const top = stack[stack.length - 1];
    if (lt < 0) {
      if (top) throw new MalformedXmlError(`element <${top.name}> is not closed`);
      break;
    }
    if (lt > at) {
      const text = source.slice(at, lt);
      if (!top) throw new MalformedXmlError("text outside the root element");
      if (text.includes("]]>")) throw new MalformedXmlError('"]]>" outside a CDATA section');
      top.text += decodeEntities(text);
    }
    at = lt;
    if (source.startsWith("<![CDATA[", at)) {
      const end = source.indexOf("]]>", at);
      if (end < 0 || !top) throw new MalformedXmlError("CDATA section unterminated or outside an element");
      top.text += source.slice(at + 9, end);
      at = end + 3;
    } else if (source.startsWith("<!--", at)) {
      const end = source.indexOf("-->", at);
      if (end < 0) throw new MalformedXmlError("unterminated comment");
      at = end + 3;
    } else if (source.startsWith("</", at)) {
      const name = NAME.exec(source.slice(at + 2, at + 2 + MAX_TAG_CHARS))?.[0];
      const close = source.indexOf(">", at);
      if (!name || !top || name !== top.name || close < 0 || source.slice(at + 2 + name.length, close).trim() !== "")
        throw new MalformedXmlError(`unexpected closing tag at ${at}`);
      stack.pop();
      at = close + 1;
      if (stack.length === 0) root = top;
    } else if (source[at + 1] === "!" || source[at + 1] === "?") {
      throw new MalformedXmlError("declarations and processing instructions are not accepted");
    } else {
      const name = NAME.exec(source.slice(at + 1, at + 1 + MAX_TAG_CHARS))?.[0];
      const close = source.indexOf(">", at);
      if (!name || close < 0 || close - at > MAX_TAG_CHARS) throw new MalformedXmlError(`bad tag at ${at}`);
      if (stack.length >= MAX_DEPTH || ++elements > MAX_ELEMENTS) throw new MalformedXmlError("the document is nested too deep or has too many elements");
      const rest = source.slice(at + 1 + name.length, close);
      const selfClosing = rest.endsWith("/");
      // Attributes (xmlns) are read past, not kept: no SDK sends any other.
      if (!/^(\s+[A-Za-z_][A-Za-z0-9_.:-]*\s*=\s*("[^"<]*"|'[^'<]*'))*\s*\/?$/.test(rest)) throw new MalformedXmlError(`bad attributes in <${name}>`);
      const element: XmlElement = { name, children: [], text: "" };
      if (top) top.children.push(element);
      else if (root) throw new MalformedXmlError("a second root element");
      at = close + 1;
      if (selfClosing) {
        if (!top) root = element;
      } else stack.push(element);
    }
  }
  if (!root) throw new MalformedXmlError("no root element");
  return root;
}

/** The text of the first child named `name`, or undefined. */
export function childText(element: XmlElement, name: string): string | undefined {
  return element.children.find((c) => c.name === name)?.text;
}

/**
 * Text as XML character data: `& < >` escaped, a carriage return as `&#13;` (a parser would turn
 * a raw one into a newline), and what XML cannot carry at all (most C0 controls, lone
 * surrogates) as U+FFFD.
 */
export function escapeXml(text: string): string {
  let out = "";
  for (const ch of text) {
    const n = ch.codePointAt(0)!;
    if (ch === "&") out += "&amp;";
    else if (ch === "<") out += "&lt;";
    else if (ch === ">") out += "&gt;";
    else if (ch === "\r") out += "&#13;";
    else out += isXmlChar(n) ? ch : "\uFFFD";
  }
  return out;
}

/** True when every character of `text` can travel in XML (publish refuses the rest). */
export function isXmlText(text: string): boolean {
  for (const ch of text) if (!isXmlChar(ch.codePointAt(0)!)) return false;
  return true;
}

export type XmlFields = readonly (readonly [string, string | number | undefined])[];

/** `<name>` with one child per field that has a value, each holding escaped text. */
export function fieldsElement(name: string, fields: XmlFields, indent = "  "): string {
  const inner = fields
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${indent}  <${k}>${escapeXml(String(v))}</${k}>`)
    .join("\n");
  return `${indent}<${name}>\n${inner}\n${indent}</${name}>`;
}

/** A whole answer: the declaration and a root with the protocol's namespace around `inner` lines. */
export function document(root: string, inner: string): string {
  return `${DECLARATION}\n<${root} xmlns="${NAMESPACE}">\n${inner}\n</${root}>\n`;
}

/** A root that holds fields directly (`<Message>` of a publish, `<Error>`). */
export function fieldsDocument(root: string, fields: XmlFields): string {
  const inner = fields
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `  <${k}>${escapeXml(String(v))}</${k}>`)
    .join("\n");
  return document(root, inner);
}
