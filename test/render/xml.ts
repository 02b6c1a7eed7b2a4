/**
 * A strict little XML parser for the render tests: elements, attributes, text, comments and
 * the five predefined entities plus character references. It throws on anything a real XML
 * parser rejects that our output could plausibly contain: mismatched or unclosed tags,
 * unquoted or duplicate attributes, a bare `<` or `&`, unknown entities, content after the
 * root, characters outside XML 1.0's `Char` (controls, unpaired surrogates), raw or as
 * character references. Enough to count elements by attribute without trusting regular expressions.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;

/** XML 1.0's Char production: what a document may hold, raw or as a character reference. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
const isXmlChar = (code: number) => !NOT_XML_CHAR.test(String.fromCodePoint(code));

export function parseXml(source: string): XmlElement {
  let at = 0;
  const fail = (message: string): never => {
    const line = source.slice(0, at).split('\n').length;
    throw new Error(`XML error at line ${line} (offset ${at}): ${message}`);
  };
  const bad = NOT_XML_CHAR.exec(source);
  if (bad) {
    at = bad.index;
    fail(`character U+${(bad[0].codePointAt(0) as number).toString(16).padStart(4, '0')} is not allowed in XML`);
  }
  const name = (): string => {
    NAME.lastIndex = at;
    const m = NAME.exec(source);
    if (!m) fail('expected a name');
    at += (m as RegExpExecArray)[0].length;
    return (m as RegExpExecArray)[0];
  };
  const spaces = () => {
    while (at < source.length && /\s/.test(source[at])) at++;
  };
  const decode = (text: string): string =>
    text.replace(/&([^;&\s]*);|&/g, (whole, entity: string | undefined) => {
      if (entity === undefined) return fail('bare "&"');
      const known: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
      if (entity in known) return known[entity];
      const hex = /^#x([0-9a-fA-F]+)$/.exec(entity);
      const code = hex ? parseInt(hex[1], 16) : /^#([0-9]+)$/.test(entity) ? Number(entity.slice(1)) : undefined;
      if (code !== undefined) return code <= 0x10ffff && isXmlChar(code) ? String.fromCodePoint(code) : fail(`character reference ${whole} names a character XML does not allow`);
      return fail(`unknown entity "${whole}"`);
    });
  const skipMisc = () => {
    for (;;) {
      spaces();
      if (source.startsWith('<?', at)) {
        const end = source.indexOf('?>', at);
        if (end < 0) fail('unclosed processing instruction');
        at = end + 2;
      } else if (source.startsWith('<!--', at)) {
        const end = source.indexOf('-->', at);
        if (end < 0) fail('unclosed comment');
        at = end + 3;
      } else return;
    }
  };

  const element = (): XmlElement => {
    if (source[at] !== '<') fail('expected "<"');
    at++;
    const el: XmlElement = { name: name(), attrs: {}, children: [] };
    for (;;) {
      const before = at;
      spaces();
      if (source.startsWith('/>', at)) {
        at += 2;
        return el;
      }
      if (source[at] === '>') {
        at++;
        break;
      }
      if (at === before) fail('expected whitespace before an attribute');
      const attr = name();
      spaces();
      if (source[at] !== '=') fail(`attribute ${attr} has no value`);
      at++;
      spaces();
      const quote = source[at];
      if (quote !== '"' && quote !== "'") fail(`attribute ${attr} is not quoted`);
      const end = source.indexOf(quote, at + 1);
      if (end < 0) fail('unclosed attribute value');
      const raw = source.slice(at + 1, end);
      if (raw.includes('<')) fail(`"<" in attribute ${attr}`);
      if (attr in el.attrs) fail(`duplicate attribute ${attr}`);
      el.attrs[attr] = decode(raw);
      at = end + 1;
    }
    for (;;) {
      const next = source.indexOf('<', at);
      if (next < 0) fail(`<${el.name}> is not closed`);
      if (next > at) el.children.push(decode(source.slice(at, next)));
      at = next;
      if (source.startsWith('</', at)) {
        at += 2;
        const closing = name();
        if (closing !== el.name) fail(`</${closing}> closes <${el.name}>`);
        spaces();
        if (source[at] !== '>') fail('expected ">"');
        at++;
        return el;
      }
      if (source.startsWith('<!--', at)) {
        const end = source.indexOf('-->', at);
        if (end < 0) fail('unclosed comment');
        at = end + 3;
        continue;
      }
      if (source.startsWith('<![CDATA[', at)) {
        const end = source.indexOf(']]>', at);
        if (end < 0) fail('unclosed CDATA');
        el.children.push(source.slice(at + 9, end));
        at = end + 3;
        continue;
      }
      el.children.push(element());
    }
  };

  skipMisc();
  const root = element();
  skipMisc();
  if (at !== source.length) fail('content after the root element');
  return root;
}

/** Every element below (and including) `root`, in document order. */
export function allElements(root: XmlElement): XmlElement[] {
  const out: XmlElement[] = [root];
  for (const c of root.children) if (typeof c !== 'string') out.push(...allElements(c));
  return out;
}

/** Elements whose attributes include every given name/value pair. */
export function findAll(root: XmlElement, attrs: Record<string, string>, name?: string): XmlElement[] {
  return allElements(root).filter((e) => (name === undefined || e.name === name) && Object.entries(attrs).every(([k, v]) => e.attrs[k] === v));
}

/** The text content of an element. */
export function textOf(node: XmlNode): string {
  return typeof node === 'string' ? node : node.children.map(textOf).join('');
}

/** The first child element with this name. */
export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c): c is XmlElement => typeof c !== 'string' && c.name === name);
}
