// Readers for a repository's own metadata: repomd.xml (which metadata files exist, with their checksums) and
// primary.xml (every package with its location, size and checksum). A streaming XML parser (saxes) does the XML:
// entities, CDATA, attribute order and quoting, comments and namespaces prefixes are its business, not ours.
// Only direct children of <data> and <package> are read, so the many elements nested in <format> cannot be
// taken for the package's own. Pure: text in, records out.
import { SaxesParser, type SaxesTagPlain } from 'saxes';

export interface RepomdEntry {
  type: string;
  href: string;
  checksumType: string | null;
  checksum: string | null;
  size: number | null;
  openChecksumType: string | null;
  openChecksum: string | null;
}

export interface PrimaryPackage {
  name: string;
  arch: string;
  href: string;
  size: number | null;
  checksumType: string | null;
  checksum: string | null;
}

const toSize = (s: string | null | undefined): number | null => (s && /^\d+$/.test(s.trim()) ? Number(s.trim()) : null);

/**
 * Calls `onRecord(tag, children)` for every `<recordTag>` element, with its attributes and the text and
 * attributes of its direct children (first occurrence of each child name). Feed with `write`, finish with `close`.
 */
class RecordReader {
  private readonly parser = new SaxesParser();
  private depth = 0;
  private recordDepth = -1;
  private record: { attrs: Record<string, string>; children: Map<string, { attrs: Record<string, string>; text: string }> } | null = null;
  private child: { name: string; attrs: Record<string, string>; text: string } | null = null;

  constructor(
    recordTag: string,
    onRecord: (attrs: Record<string, string>, children: Map<string, { attrs: Record<string, string>; text: string }>) => void,
  ) {
    // saxes reports `line:column: what`; say what kind of error it is.
    this.parser.on('error', (e: Error) => {
      throw new Error(`not well-formed XML at ${e.message}`);
    });
    this.parser.on('opentag', (tag: SaxesTagPlain) => {
      this.depth++;
      if (!this.record && tag.name === recordTag) {
        this.record = { attrs: tag.attributes, children: new Map() };
        this.recordDepth = this.depth;
      } else if (this.record && this.depth === this.recordDepth + 1) {
        this.child = { name: tag.name, attrs: tag.attributes, text: '' };
      }
    });
    const onText = (t: string) => {
      if (this.child) this.child.text += t;
    };
    this.parser.on('text', onText);
    this.parser.on('cdata', onText);
    this.parser.on('closetag', () => {
      if (this.record && this.child && this.depth === this.recordDepth + 1) {
        if (!this.record.children.has(this.child.name)) this.record.children.set(this.child.name, { attrs: this.child.attrs, text: this.child.text.trim() });
        this.child = null;
      } else if (this.record && this.depth === this.recordDepth) {
        onRecord(this.record.attrs, this.record.children);
        this.record = null;
      }
      this.depth--;
    });
  }

  write(text: string): void {
    this.parser.write(text);
  }

  close(): void {
    this.parser.close();
  }
}

/** The `<data>` entries of a repomd.xml. Throws on XML that is not well formed, naming where. */
export function parseRepomd(xml: string): RepomdEntry[] {
  const out: RepomdEntry[] = [];
  const reader = new RecordReader('data', (attrs, c) => {
    out.push({
      type: attrs['type'] ?? '',
      href: c.get('location')?.attrs['href'] ?? '',
      checksumType: c.get('checksum')?.attrs['type'] ?? null,
      checksum: c.get('checksum')?.text || null,
      size: toSize(c.get('size')?.text),
      openChecksumType: c.get('open-checksum')?.attrs['type'] ?? null,
      openChecksum: c.get('open-checksum')?.text || null,
    });
  });
  reader.write(xml);
  reader.close();
  return out;
}

/** Reads primary.xml text however it is chunked; each `write` returns the packages completed by that chunk. */
export class PrimaryPackageReader {
  private done: PrimaryPackage[] = [];
  private readonly reader = new RecordReader('package', (_attrs, c) => {
    this.done.push({
      name: c.get('name')?.text ?? '',
      arch: c.get('arch')?.text ?? '',
      href: c.get('location')?.attrs['href'] ?? '',
      size: toSize(c.get('size')?.attrs['package']),
      checksumType: c.get('checksum')?.attrs['type'] ?? null,
      checksum: c.get('checksum')?.text || null,
    });
  });

  write(text: string): PrimaryPackage[] {
    this.reader.write(text);
    return this.take();
  }

  /** Ends the document; throws if it is not well formed (truncated, say). */
  close(): PrimaryPackage[] {
    this.reader.close();
    return this.take();
  }

  private take(): PrimaryPackage[] {
    const out = this.done;
    this.done = [];
    return out;
  }
}

/** A repomd.xml's `<revision>` and its newest `<data><timestamp>` (seconds since the epoch), each null when absent. */
export function parseRepomdRevision(xml: string): { revision: string | null; timestamp: number | null } {
  let revision: string | null = null;
  const top = new RecordReader('repomd', (_attrs, c) => {
    revision = c.get('revision')?.text || null;
  });
  top.write(xml);
  top.close();
  let timestamp: number | null = null;
  const data = new RecordReader('data', (_attrs, c) => {
    const t = Number(c.get('timestamp')?.text);
    if (Number.isFinite(t) && t > 0) timestamp = Math.max(timestamp ?? 0, t);
  });
  data.write(xml);
  data.close();
  return { revision, timestamp };
}
