// Reads a repository metadata file as its uncompressed bytes, whatever the build system compressed it with:
// plain, gzip (Node's zlib), and zstd, xz or bzip2 (Debian's zstd, xz-utils and bzip2, through the tool runner:
// Node 20 has no zstd, and none of these needs a native npm module). EL10 and Fedora publish zstd metadata.
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { classifyToolExit, DECOMPRESSOR_EXITS } from '../tools/exit-codes.js';
import { activityContext } from '../activityContext.js';
import { runTool, tailLines } from '../tools/run.js';

export type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

/** The compression of a file from its first bytes (the file name may lie). */
export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

/** A metadata file that could not be read or decompressed; the message names the file and the cause. */
export class MetadataReadError extends Error {
  override name = 'MetadataReadError';
}

async function headOf(file: string): Promise<Buffer> {
  const fh = await fs.open(file);
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await fh.read(head, 0, 8, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Streams the uncompressed content of `file` to `onBytes`, chunk by chunk. Returns the compression found. An error
 * thrown by `onBytes` (a parser that met broken XML) ends the read and is rethrown; a file that does not
 * decompress throws MetadataReadError.
 */
export async function readMetadataFile(file: string, onBytes: (chunk: Buffer) => void): Promise<Compression> {
  const kind = sniffCompression(await headOf(file));
  if (kind === 'none' || kind === 'gzip') {
    const raw = createReadStream(file);
    const stream = kind === 'gzip' ? raw.pipe(zlib.createGunzip()) : raw;
    try {
      for await (const chunk of stream) onBytes(chunk as Buffer);
    } catch (e) {
      raw.destroy();
      if ((e as NodeJS.ErrnoException).code?.startsWith('Z_')) throw new MetadataReadError(`${path.basename(file)}: gzip data is corrupt or truncated (${(e as Error).message})`);
      throw e;
    }
    return kind;
  }
  // The decompressor's output arrives in callbacks: keep the first error of the consumer, ignore the rest.
  let consumerError: { error: unknown } | null = null;
  const controller = new AbortController();
  const cancelled = activityContext()?.cancellationSignal;
  const res = await runTool(kind, ['-dcq', '--', file], {
    onStdoutBytes: (chunk) => {
      if (consumerError) return;
      try {
        onBytes(chunk);
      } catch (error) {
        consumerError = { error };
        controller.abort();
      }
    },
    signal: cancelled ? AbortSignal.any([cancelled, controller.signal]) : controller.signal,
  }).catch((e: unknown) => {
    if (consumerError) return null;
    throw e;
  });
  if (consumerError) throw (consumerError as { error: unknown }).error;
  const failure = res && classifyToolExit(DECOMPRESSOR_EXITS[kind], res);
  if (failure) throw new MetadataReadError(`${path.basename(file)} is ${kind}-compressed and ${failure.meaning}: ${tailLines(res!.stderr, 3) || 'no message'}; ${failure.advice}`);
  return kind;
}
