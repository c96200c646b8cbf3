// The processes a command started, found by walking /proc: what `demo`, `server` and `worker` end before they
// exit, and what the tests check is gone. Children started in their own process group (the tool runner's rsync
// and dnf) are found too, since they stay our descendants by parent ID.
import fs from 'node:fs';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  pgid: number;
  /** One letter: R running, S sleeping, Z zombie (exited, not yet reaped), ... */
  state: string;
  comm: string;
}

/** Parses /proc/<pid>/stat; the command name is in parentheses and may itself hold spaces and parentheses. */
export function parseProcStat(text: string): ProcessEntry | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 2).split(' ');
  const [state, ppid, pgid] = [rest[0], Number(rest[1]), Number(rest[2])];
  if (!Number.isInteger(pid) || !state || !Number.isInteger(ppid) || !Number.isInteger(pgid)) return null;
  return { pid, ppid, pgid, state, comm: text.slice(open + 1, close) };
}

/** Every process visible in /proc now (a process that exits while we read is skipped). */
export function processTable(): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const entry = parseProcStat(text);
    if (entry) out.push(entry);
  }
  return out;
}

/** The descendants of `pid` (children, their children, ...) in `table`, zombies left out: they have exited. */
export function descendantsOf(pid: number, table: ProcessEntry[] = processTable()): ProcessEntry[] {
  const children = new Map<number, ProcessEntry[]>();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: ProcessEntry[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      if (c.state !== 'Z') out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

/**
 * Ends whatever this process started that is still running: SIGTERM, then SIGKILL after `graceMs`. The clean
 * paths stop every child themselves; this is the net under them, and what it had to end is returned so the
 * command can say so (a leftover is a defect of the clean path).
 */
export async function endDescendants(graceMs = 3_000): Promise<ProcessEntry[]> {
  const left = descendantsOf(process.pid);
  if (left.length === 0) return [];
  for (const p of left) signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && descendantsOf(process.pid).length > 0) await new Promise((r) => setTimeout(r, 50));
  for (const p of descendantsOf(process.pid)) signal(p.pid, 'SIGKILL');
  return left;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}
