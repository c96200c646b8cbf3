// Text that goes into Temporal markdown (a run's summary and details in the Web UI) shows as typed: the UI
// renders CommonMark and drops raw HTML, so `<you>` vanished and a `**` in a comment turned into bold.
// Pure and import-free: workflow code calls it to build its current details.

/**
 * Characters that start inline markdown, raw HTML, entities, table cells or strikethrough anywhere in a line
 * (`!` only makes an image before `[`, which is escaped).
 */
const INLINE_SPECIAL = /[\\`*_[\]<>&|~]/g;

/**
 * One line of literal text for markdown: every character that could start markup is backslash-escaped
 * (CommonMark lets any ASCII punctuation be escaped), line breaks become spaces, and what would make a
 * heading, quote, list item or rule at the start of a line is escaped too.
 */
export function markdownText(text: string): string {
  const oneLine = text.replace(/\s*[\r\n]+\s*/g, ' ');
  const inline = oneLine.replace(INLINE_SPECIAL, (c, at: number) => (c === '_' && intraword(oneLine, at) ? c : `\\${c}`));
  // `# x`, `+ x`, `- x`, `= x` only matter where a block starts; `1. x` and `1) x` too.
  return inline.replace(/^(\s*)([#+\-=])/, '$1\\$2').replace(/^(\s*\d+)([.)])/, '$1\\$2');
}

/** `_` between two letters or digits never emphasizes (CommonMark 6.2), so `x86_64` and `john_doe` stay as they are. */
function intraword(text: string, at: number): boolean {
  return /[\p{L}\p{N}]/u.test(text[at - 1] ?? '') && /[\p{L}\p{N}]/u.test(text[at + 1] ?? '');
}

/**
 * A code span that shows `text` exactly, whatever backticks it holds: the fence is one backtick longer than the
 * longest run inside, with a space on each side when the text starts or ends with a backtick (CommonMark 6.1).
 */
export function markdownCode(text: string): string {
  const oneLine = text.replace(/[\r\n]+/g, ' ');
  const longest = Math.max(0, ...(oneLine.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') || oneLine === '' ? ' ' : '';
  return `${fence}${pad}${oneLine}${pad}${fence}`;
}
