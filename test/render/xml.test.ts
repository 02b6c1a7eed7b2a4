import { describe, expect, it } from 'vitest';
import { findAll, parseXml, textOf } from './xml.js';

describe('the test XML parser', () => {
  it('reads elements, attributes, entities and text', () => {
    const root = parseXml('<?xml version="1.0"?><a x="1" y=\'&lt;2&gt;\'><!-- c --><b k="v"/>t &amp; &#x41;&#66;<b k="w">u</b></a>');
    expect(root.attrs).toEqual({ x: '1', y: '<2>' });
    expect(findAll(root, { k: 'v' }, 'b')).toHaveLength(1);
    expect(textOf(root)).toBe('t & ABu');
  });

  it.each([
    ['a mismatched close tag', '<a><b></a></b>'],
    ['an unclosed element', '<a><b></b>'],
    ['an unquoted attribute', '<a x=1/>'],
    ['a duplicate attribute', '<a x="1" x="2"/>'],
    ['a bare ampersand', '<a>x & y</a>'],
    ['an unknown entity', '<a>&nbsp;</a>'],
    ['"<" in an attribute', '<a x="<"/>'],
    ['content after the root', '<a/><b/>'],
    ['attributes without whitespace between', '<a x="1"y="2"/>'],
    ['a raw escape character', '<a>\u001b[31m</a>'],
    ['a control character as a reference', '<a>&#x1b;</a>'],
    ['a control character as a decimal reference', '<a t="&#1;"/>'],
    ['an unpaired surrogate', '<a>\ud800</a>'],
  ])('rejects %s', (_what, text) => {
    expect(() => parseXml(text)).toThrow(/XML error/);
  });
});
