// File names that cannot go into a TAB/newline-separated UTF-8 list. The peer writes them raw (breaking
// rows) or crashes half-way; we refuse them before any published list is touched (reference §1.6).
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import { compareUtf8 } from './format.js';

export type BadNameReason = 'tab' | 'newline' | 'invalid-utf8';

const REASON_TEXT: Record<BadNameReason, string> = {
  tab: 'contains a TAB',
  newline: 'contains a newline',
  'invalid-utf8': 'is not valid UTF-8',
};

/** A name in the tree that the list format cannot carry; `path` is escaped and safe to print. */
export class BadFileNameError extends Error {
  override readonly name = 'BadFileNameError';

  constructor(
    readonly path: string,
    readonly reason: BadNameReason,
    readonly root: string,
  ) {
    super(
      `Cannot write the mirror file lists: the name ${path} (under ${root}) ${REASON_TEXT[reason]}, ` +
        'which the list format cannot represent. Rename or remove it, then publish again; ' +
        'the published lists were left as they were.',
    );
  }
}

/** Printable form of raw name bytes: `\t`, `\n`, `\\` and `\xNN` for control and undecodable bytes. */
export function escapeNameBytes(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buf)) return escapeControls(buf.toString('utf8'));
  let out = '';
  for (const b of buf) {
    if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

function escapeControls(s: string): string {
  return s.replace(/[\\\x00-\x1f\x7f]/g, (c) => {
    if (c === '\\') return '\\\\';
    if (c === '\t') return '\\t';
    if (c === '\n') return '\\n';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** Why `name` cannot be listed, or null when it can. */
export function badNameReason(name: Buffer): BadNameReason | null {
  if (!isUtf8(name)) return 'invalid-utf8';
  if (name.includes(0x09)) return 'tab';
  if (name.includes(0x0a)) return 'newline';
  return null;
}

/**
 * Directory entries as strings in byte order. Throws BadFileNameError for the first unlistable name.
 * `relDir` is the directory relative to `root` (`''` or ending in `/`), used only for the message.
 */
export function decodeSortedNames(raw: Buffer[], relDir: string, root: string): string[] {
  raw.sort(Buffer.compare);
  const names = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const bytes = raw[i]!;
    const reason = badNameReason(bytes);
    if (reason !== null) {
      throw new BadFileNameError(`./${escapeControls(relDir)}${escapeNameBytes(bytes)}`, reason, root);
    }
    names[i] = bytes.toString('utf8');
  }
  return names;
}

/** TAB, newline, U+FFFD (what Node substitutes for undecodable bytes) or a surrogate: worth a closer look. */
const UNUSUAL = /[\t\n\uD800-\uDFFF\uFFFD]/;
const SUSPECT = /[\t\n\uFFFD]/;

/**
 * Names in directory `abs`, sorted by UTF-8 bytes; throws BadFileNameError for the first unlistable one.
 * Reads strings first (a Buffer per name costs more than the lstat); a U+FFFD in any name means Node may
 * have replaced invalid bytes, so that directory is re-read as raw bytes and decoded strictly.
 */
export function readDirectoryNames(abs: string, relDir: string, root: string): string[] {
  const names = fs.readdirSync(abs);
  let needsUtf8Sort = false;
  for (const name of names) {
    if (!UNUSUAL.test(name)) continue;
    if (SUSPECT.test(name)) return decodeSortedNames(fs.readdirSync(abs, { encoding: 'buffer' }), relDir, root);
    // Surrogates are the only UTF-16 units whose order differs from UTF-8 byte order.
    needsUtf8Sort = true;
  }
  return needsUtf8Sort ? names.sort(compareUtf8) : names.sort();
}
