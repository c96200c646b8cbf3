// The three roots of a site (compose, staging, production) and the marker file each one carries.
// A root is a mount point in production: when the share is not mounted, or the site config has a typo, the path
// still exists (an empty folder) and rsync --delete would happily mirror into it, or worse, into the wrong tree.
// The marker says which root a folder is; it is written once by `sigrelease init-roots`, and every activity that
// writes into a root checks it first.
import fs from 'node:fs';
import path from 'node:path';

export type RootKind = 'compose' | 'staging' | 'production';
export const ROOT_KINDS: readonly RootKind[] = ['compose', 'staging', 'production'];
/** `<root>/.sigrelease-root`: its first line is the kind of root. */
export const ROOT_MARKER_FILE = '.sigrelease-root';
/** `<root>/.sigrelease-state/`: what sigrelease records about a root's trees (src/lifecycle/sources.ts); never listed. */
export const ROOT_STATE_DIR = '.sigrelease-state';

export interface SiteRoots {
  composeRoot: string;
  stagingRoot: string;
  productionRoot: string;
}

export const rootOf = (roots: SiteRoots, kind: RootKind): string => roots[`${kind}Root`];
export const rootMarkerPath = (root: string) => path.join(root, ROOT_MARKER_FILE);

/** `/a/b/` and `/a//b` are the same root; no `..` reaches here (the schema refuses it). */
const normalise = (p: string) => path.posix.normalize(p).replace(/(.)\/+$/, '$1');
const isInside = (inner: string, outer: string) => outer === '/' || inner.startsWith(`${outer}/`);

/**
 * Why the roots cannot work together, one line per pair, or [] when they are distinct and none holds another.
 * A staging root inside the compose root (say) would let one sync's --delete reach into the other tree. Pure.
 */
export function rootLayoutProblems(roots: SiteRoots): string[] {
  const problems: string[] = [];
  for (let i = 0; i < ROOT_KINDS.length; i++) {
    for (let j = i + 1; j < ROOT_KINDS.length; j++) {
      const [a, b] = [ROOT_KINDS[i]!, ROOT_KINDS[j]!];
      const [pa, pb] = [normalise(rootOf(roots, a)), normalise(rootOf(roots, b))];
      if (pa === pb) problems.push(`${a}Root and ${b}Root are the same folder (${pa}); each root needs its own`);
      else if (isInside(pa, pb)) problems.push(`${a}Root ${pa} is inside ${b}Root ${pb}; roots must not be nested`);
      else if (isInside(pb, pa)) problems.push(`${b}Root ${pb} is inside ${a}Root ${pa}; roots must not be nested`);
    }
  }
  return problems;
}

/** What a marker file says, or null when it says nothing we know. Pure. */
export function parseRootMarker(text: string): RootKind | null {
  const first = text.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
  return ROOT_KINDS.includes(first as RootKind) ? (first as RootKind) : null;
}

export function renderRootMarker(kind: RootKind, writtenAt: string): string {
  return `${kind}\n# This folder is the sigrelease ${kind} root. Written by \`sigrelease init-roots\` at ${writtenAt}; do not copy it elsewhere.\n`;
}

/** A root that is not what the site config says it is. `type` is the failure type activities report. */
export class RootMarkerError extends Error {
  override readonly name = 'RootMarkerError';
  readonly type = 'RootMarkerMismatch';
  constructor(
    message: string,
    readonly root: string,
    readonly expected: RootKind,
    readonly found: RootKind | 'missing' | 'unreadable',
  ) {
    super(message);
  }
}

const FIX = 'If the path is right and the share is mounted, run `sigrelease init-roots` once on the compose host to mark the roots.';

/**
 * Throws RootMarkerError unless `<root>/.sigrelease-root` says `kind`. Called before anything is written to a
 * root (and by `sigrelease doctor`). Synchronous and cheap: one small read.
 */
export function checkRootMarker(root: string, kind: RootKind): void {
  const marker = rootMarkerPath(root);
  let text: string;
  try {
    text = fs.readFileSync(marker, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const missing = code === 'ENOENT' || code === 'ENOTDIR';
    throw new RootMarkerError(
      `the ${kind} root ${root} has no ${ROOT_MARKER_FILE} marker (${missing ? 'no such file' : code ?? String(e)}): ` +
        `is the share unmounted, or is ${kind}Root in the site config mistyped? Nothing was written. ${FIX}`,
      root,
      kind,
      missing ? 'missing' : 'unreadable',
    );
  }
  const found = parseRootMarker(text);
  if (found === kind) return;
  throw new RootMarkerError(
    found
      ? `${root} is marked as the ${found} root, but the site config uses it as the ${kind} root (${kind}Root): ` +
          `two roots mixed up in the site config? Nothing was written. Fix ${kind}Root; never copy a marker from another root.`
      : `the marker ${marker} does not name a root (expected "${kind}" on its first line). Nothing was written. ` +
          `Remove it and run \`sigrelease init-roots\`.`,
    root,
    kind,
    found ?? 'unreadable',
  );
}

/** Checks the markers of every root of the site; the first wrong one throws. */
export function checkRootMarkers(roots: SiteRoots, kinds: readonly RootKind[] = ROOT_KINDS): void {
  for (const kind of kinds) checkRootMarker(rootOf(roots, kind), kind);
}

export interface InitRootResult {
  kind: RootKind;
  root: string;
  /** `created`: the folder did not exist; `marked`: the marker was written; `kept`: it was already there. */
  action: 'created' | 'marked' | 'kept';
}

/**
 * Creates each root folder if needed and writes its marker, once: a root that already carries its own marker is
 * left alone, and one that carries another root's marker is refused (RootMarkerError) before any root is touched.
 */
export function initRoots(roots: SiteRoots, now: () => Date = () => new Date()): InitRootResult[] {
  const problems = rootLayoutProblems(roots);
  if (problems.length > 0) throw new Error(`cannot mark the roots: ${problems.join('; ')}`);
  const existing = ROOT_KINDS.map((kind) => {
    const root = rootOf(roots, kind);
    let text: string | null = null;
    try {
      text = fs.readFileSync(rootMarkerPath(root), 'utf8');
    } catch {
      /* no marker yet */
    }
    return { kind, root, text };
  });
  for (const { kind, root, text } of existing) {
    if (text === null) continue;
    const found = parseRootMarker(text);
    if (found !== kind) checkRootMarker(root, kind); // throws with the reason
  }
  return existing.map(({ kind, root, text }): InitRootResult => {
    if (text !== null) return { kind, root, action: 'kept' };
    const created = !fs.existsSync(root);
    fs.mkdirSync(root, { recursive: true });
    // `wx`: if another init-roots raced us here, its marker wins and ours is not written over it.
    try {
      fs.writeFileSync(rootMarkerPath(root), renderRootMarker(kind, now().toISOString()), { flag: 'wx', mode: 0o644 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      checkRootMarker(root, kind);
      return { kind, root, action: 'kept' };
    }
    return { kind, root, action: created ? 'created' : 'marked' };
  });
}
