// Output for the synchronous walk. A WriteStream would only drain when the walk yields, so rows are
// batched into large chunks and written with writeSync: memory stays at one chunk per output.
import fs from 'node:fs';

const DEFAULT_CHUNK_BYTES = 1 << 20;

export interface TextSink {
  write(text: string): void;
  /** Writes out whatever is buffered. */
  flush(): void;
}

export class FdSink implements TextSink {
  private readonly buf: Buffer;
  private used = 0;
  /** Bytes handed to the file descriptor so far. */
  bytesWritten = 0;

  constructor(
    readonly fd: number,
    chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  write(text: string): void {
    // A UTF-16 unit never takes more than 3 UTF-8 bytes; encoding straight into the chunk keeps no row alive.
    if (text.length * 3 > this.buf.length - this.used) {
      this.flush();
      if (text.length * 3 > this.buf.length) {
        writeAllSync(this.fd, Buffer.from(text, 'utf8'));
        this.bytesWritten += Buffer.byteLength(text, 'utf8');
        return;
      }
    }
    this.used += this.buf.write(text, this.used, 'utf8');
  }

  flush(): void {
    if (this.used === 0) return;
    writeAllSync(this.fd, this.buf.subarray(0, this.used));
    this.bytesWritten += this.used;
    this.used = 0;
  }
}

/** Collects everything in memory; for tests and small trees. */
export class StringSink implements TextSink {
  text = '';
  write(text: string): void {
    this.text += text;
  }
  flush(): void {}
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
