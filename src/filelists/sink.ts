// Output for the synchronous walk. A WriteStream would only drain when the walk yields, so rows are
// batched into large chunks and written with writeSync: memory stays at one chunk per output.
import fs from 'node:fs';

const DEFAULT_CHUNK_BYTES = 1 << 20;

export interface TextSink {
  write(text: string): void;
  /** Writes out whatever is buffered. */
  flush(): void;
  /**
   * Appends the whole content of `file` (UTF-8 text). Optional: the parallel walk (walk.ts) falls back to
   * reading it in chunks and calling write.
   */
  appendFile?(file: string): void;
}

/** Rows are joined as a JS string up to this many UTF-16 units before being encoded into the chunk. */
const PENDING_CHARS = 1 << 16;

export class FdSink implements TextSink {
  private readonly buf: Buffer;
  private used = 0;
  /**
   * Text not yet encoded. Appending a row to a string is far cheaper than a Buffer#write call per row
   * (two per entry, two million at 1M entries); one encode per ~64K characters instead.
   */
  private pending = '';
  /** Bytes handed to the file descriptor so far. */
  bytesWritten = 0;

  /**
   * `chunk` is a size in bytes, or a buffer to reuse: a thread writing many short-lived sinks (one pair per
   * work unit) passes the same buffers, since a fresh megabyte per sink waits for a GC as external memory.
   */
  constructor(
    readonly fd: number,
    chunk: number | Buffer = DEFAULT_CHUNK_BYTES,
  ) {
    this.buf = typeof chunk === 'number' ? Buffer.allocUnsafe(chunk) : chunk;
  }

  write(text: string): void {
    const pending = this.pending + text;
    if (pending.length < PENDING_CHARS) {
      this.pending = pending;
      return;
    }
    this.pending = '';
    this.encode(pending);
  }

  /** Moves `text` into the chunk (flushing the chunk first when it might not fit). */
  private encode(text: string): void {
    // A UTF-16 unit never takes more than 3 UTF-8 bytes; encoding straight into the chunk keeps no row alive.
    if (text.length * 3 > this.buf.length - this.used) {
      this.flushChunk();
      if (text.length * 3 > this.buf.length) {
        const bytes = Buffer.from(text, 'utf8');
        writeAllSync(this.fd, bytes);
        this.bytesWritten += bytes.length;
        return;
      }
    }
    this.used += this.buf.write(text, this.used, 'utf8');
  }

  private flushChunk(): void {
    if (this.used === 0) return;
    writeAllSync(this.fd, this.buf.subarray(0, this.used));
    this.bytesWritten += this.used;
    this.used = 0;
  }

  flush(): void {
    if (this.pending.length > 0) {
      const text = this.pending;
      this.pending = '';
      this.encode(text);
    }
    this.flushChunk();
  }

  /** Copies `file` through the chunk buffer: bytes in, bytes out, no decoding (Node has no copy_file_range append). */
  appendFile(file: string): void {
    this.flush();
    const fd = fs.openSync(file, 'r');
    try {
      for (let n; (n = fs.readSync(fd, this.buf, 0, this.buf.length, null)) > 0; ) {
        writeAllSync(this.fd, this.buf.subarray(0, n));
        this.bytesWritten += n;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Collects everything in memory; for tests and small trees. */
export class StringSink implements TextSink {
  text = '';
  write(text: string): void {
    this.text += text;
  }
  flush(): void {}
  appendFile(file: string): void {
    this.text += fs.readFileSync(file, 'utf8');
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** writeSync until done; stdout may be a non-blocking pipe, which answers EAGAIN when full. */
export function writeAllSync(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(sleepCell, 0, 0, 5);
    }
  }
}
