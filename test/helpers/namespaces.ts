// One Temporal namespace per integration test file, on the one dev server of the run: runs, schedules, search
// attribute queries and production locks of one file are invisible to every other file. The global setup
// creates the namespaces of every file it finds; a test file derives its own name with the same function.
// Pure path logic only (no vitest, no Temporal), so the setup, the helper and a unit test share it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INTEGRATION_SUFFIX = '.int.test.ts';
/** Prefix of every per-file namespace: never the server's `default`, and easy to spot in the Web UI. */
export const TEST_NAMESPACE_PREFIX = 'it-';

/** `test/operations/schedules.int.test.ts` → `it-operations-schedules` (lowercase letters, digits, dashes). */
export function namespaceForTestFile(file: string, root = REPO_ROOT): string {
  const rel = path.relative(root, path.resolve(root, file)).split(path.sep).join('/');
  if (rel.startsWith('../') || !rel.endsWith(INTEGRATION_SUFFIX)) {
    throw new Error(`${file} is not an integration test file of this repository (test/**/*${INTEGRATION_SUFFIX})`);
  }
  const stem = rel.replace(/^test\//, '').slice(0, -INTEGRATION_SUFFIX.length);
  const name = stem
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${TEST_NAMESPACE_PREFIX}${name}`;
}

/** Every integration test file under `test/`, as paths relative to `root`, sorted. */
export function integrationTestFiles(root = REPO_ROOT): string[] {
  const dir = path.join(root, 'test');
  return (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((f) => f.endsWith(INTEGRATION_SUFFIX) && !f.split(path.sep).includes('node_modules'))
    .map((f) => path.join('test', f).split(path.sep).join('/'))
    .sort();
}

/**
 * The namespace of each integration test file. Two files whose paths differ only in punctuation would share
 * one namespace, which is what this whole module exists to prevent: refused with both names.
 */
export function namespacesForTestFiles(files: readonly string[], root = REPO_ROOT): Map<string, string> {
  const byNamespace = new Map<string, string>();
  for (const f of files) {
    const ns = namespaceForTestFile(f, root);
    const other = byNamespace.get(ns);
    if (other !== undefined) throw new Error(`integration test files ${other} and ${f} would share the namespace ${ns}; rename one`);
    byNamespace.set(ns, f);
  }
  return new Map([...byNamespace].map(([ns, f]) => [f, ns]));
}
