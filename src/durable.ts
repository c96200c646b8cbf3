// Making a write survive a power cut: a file's data, or a folder's entries (a rename is durable only once the
// folder holding it is synced). One helper for both: the call is the same for a file and a folder.
import fs from 'node:fs';

/** fsync(2) on a file or folder. */
export function syncToDisk(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The same without blocking the event loop (activities that run beside heartbeats). */
export async function syncToDiskAsync(file: string): Promise<void> {
  const fh = await fs.promises.open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
