// The names the lifecycle commands take from people and requests, checked without touching anything: a compose
// ID is a folder NAME (never a path), a vault revision is `<major>.<minor>`. Pure, no imports: the request
// schema, the CLI (before the SDK loads) and the activities all check with these.

/** Where a run enters the pipeline: the whole pipeline, or at staging, at the gate, or at the file lists. */
export const ENTRY_STAGES = ['compose', 'staging', 'gate', 'lists'] as const;
export type EntryStage = (typeof ENTRY_STAGES)[number];

/** What a run does, as `list`, `status` and the result show it. */
export type RunMode = 'release' | 'restage' | 'rollback' | 'gate' | 'lists' | 'vault';

/** The mode a request asks for: `from` plus whether it names an earlier compose. Pure. */
export function runModeOf(request: { from?: unknown; composeId?: unknown }): RunMode {
  switch (request.from) {
    case 'staging':
      return typeof request.composeId === 'string' ? 'rollback' : 'restage';
    case 'gate':
      return 'gate';
    case 'lists':
      return 'lists';
    default:
      return 'release';
  }
}

/** A compose folder name (`SIG-core-9.7-20261130.101500`) or compose ID (`core-9-20261130.101500`). */
const COMPOSE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/** Why `id` cannot name a compose, or null. A name only: no slash, no `..`, nothing a path could climb with. */
export function composeIdProblem(id: unknown): string | null {
  if (typeof id !== 'string') return `compose ID must be a string such as "SIG-core-9.7-20261130.101500", got ${JSON.stringify(id)}`;
  if (id.includes('/') || id.includes('\\') || id.includes('..') || !COMPOSE_NAME.test(id)) {
    return `compose ID ${JSON.stringify(id.slice(0, 140))} is not a compose name (letters, digits and . _ + -, no slashes, no ".."); see \`sigrelease composes <release> <sig>\``;
  }
  return null;
}

/** Why `revision` cannot be a vault revision for `release`, or null: `<release>.<minor>`, e.g. 9.5 for 9. */
export function vaultRevisionProblem(revision: unknown, release: string): string | null {
  if (typeof revision !== 'string' || !/^[0-9]{1,4}\.[0-9]{1,4}$/.test(revision)) {
    return `--revision ${JSON.stringify(revision)} must be a minor release such as "${release}.5" (digits.digits)`;
  }
  if (revision.split('.')[0] !== release) return `--revision ${revision} is not a minor release of ${release}: vault/sig/<x.y>/ holds a copy of sig/${release}/ only under ${release}.<minor>`;
  return null;
}

/** The folder name a compose ID maps to, for a SIG: `SIG-<sig>-<revision>-<stamp>` parsed, or null. Pure. */
export function parseComposeFolder(name: string, sig: string): { revision: string; stamp: string } | null {
  const prefix = `SIG-${sig}-`;
  if (!name.startsWith(prefix)) return null;
  const m = /^([0-9]+\.[0-9]+)-([0-9]{8}\.[0-9]{6})$/.exec(name.slice(prefix.length));
  return m ? { revision: m[1]!, stamp: m[2]! } : null;
}

/** Whether `id` names the compose folder `name` of `sig` `release`: its folder name, or the run's compose ID. */
export function namesCompose(id: string, name: string, sig: string, release: string): boolean {
  const parsed = parseComposeFolder(name, sig);
  return parsed !== null && (id === name || id === `${sig}-${release}-${parsed.stamp}`);
}

/** The mode of a listed run: what its memo says (set by the run, or the request our CLI put there), else a release. */
export function modeOfRun(workflowType: string | undefined, memo: Record<string, unknown> | undefined): RunMode {
  if (workflowType === 'sigVault') return 'vault';
  const said = memo?.mode;
  if (typeof said === 'string' && ['release', 'restage', 'rollback', 'gate', 'lists', 'vault'].includes(said)) return said as RunMode;
  const request = memo?.request;
  return request && typeof request === 'object' ? runModeOf(request as Record<string, unknown>) : 'release';
}
