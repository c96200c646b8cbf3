import { describe, expect, it } from 'vitest';
import { markdownCode, markdownText } from '../../src/markdown.js';

/** What CommonMark shows for text made of backslash escapes: each `\<punct>` is the punctuation itself. */
const unescape = (md: string) => md.replace(/\\([!-/:-@[-`{-~])/g, '$1');

describe('markdownText', () => {
  it('escapes a placeholder that the UI would take for an HTML tag, and markup in a comment', () => {
    expect(markdownText('{"by": "<you>"}')).toBe('{"by": "\\<you\\>"}');
    expect(markdownText('ship it **now**')).toBe('ship it \\*\\*now\\*\\*');
    expect(markdownText('<script>alert(1)</script> & [link](http://x) `code` ~~old~~ a|b')).toBe(
      '\\<script\\>alert(1)\\</script\\> \\& \\[link\\](http://x) \\`code\\` \\~\\~old\\~\\~ a\\|b',
    );
  });

  it('leaves an underscore inside a word alone (it never emphasizes) and escapes one at a word edge', () => {
    expect(markdownText('x86_64/core_common')).toBe('x86_64/core_common');
    expect(markdownText('_important_ and __bold__')).toBe('\\_important\\_ and \\_\\_bold\\_\\_');
  });

  it('keeps one line: line breaks in a comment become spaces, so no table row or list item starts', () => {
    expect(markdownText('looks fine\n\n| row |\n- item')).toBe('looks fine \\| row \\| - item');
  });

  it('escapes what would start a heading, list or rule at the start of the text only', () => {
    expect(markdownText('# not a heading')).toBe('\\# not a heading');
    expect(markdownText('- not a list')).toBe('\\- not a list');
    expect(markdownText('+1 from me')).toBe('\\+1 from me');
    expect(markdownText('1. not a list')).toBe('1\\. not a list');
    expect(markdownText('2) neither')).toBe('2\\) neither');
    expect(markdownText('core 9.7 - fine')).toBe('core 9.7 - fine');
  });

  it('reads back as the typed text once CommonMark has taken the escapes away', () => {
    for (const typed of ['<you>', '**', 'a & b', '&lt;', 'back\\slash', '[x](y)', '# x', '`tick`', 'é_ü', 'x86_64']) {
      expect(unescape(markdownText(typed)), typed).toBe(typed);
    }
  });

  it('leaves plain text as it is', () => {
    expect(markdownText('alice approved core 9 at 2026-11-30T12:00:00.000Z')).toBe('alice approved core 9 at 2026-11-30T12:00:00.000Z');
  });
});

describe('markdownCode', () => {
  it('puts text in a code span, where nothing is markup', () => {
    expect(markdownCode('{"by": "<you>", "comment": "..."}')).toBe('`{"by": "<you>", "comment": "..."}`');
    expect(markdownCode('/mnt/compose/9/SIG-core-9.7-20261130/work/manifest.json')).toBe('`/mnt/compose/9/SIG-core-9.7-20261130/work/manifest.json`');
  });

  it('uses a longer fence than any run of backticks inside, padded when the text starts or ends with one', () => {
    expect(markdownCode('a`b')).toBe('``a`b``');
    expect(markdownCode('``x``')).toBe('``` ``x`` ```');
    expect(markdownCode('`')).toBe('`` ` ``');
  });

  it('keeps one line', () => {
    expect(markdownCode('a\nb')).toBe('`a b`');
  });
});
