// The per-run dnf configuration: one file per compose run, inside the compose's work tree, nothing shared
// with another run (the seed's /var/tmp/<sig>-<rel>-config.repo was shared: seed §7 risk 6, §8 scenario 18).
// Pure rendering; `prepareCompose` writes it.
import { pathToFileURL } from 'node:url';
import type { ComposePlan, ReposyncTask } from './types.js';

export interface DnfIsolation {
  /** Default cache folder (each task overrides it with its own, see `reposyncStateDirs`). */
  cacheDir: string;
  logDir: string;
  persistDir: string;
  /** A folder that does not exist: dnf must read no repo files but ours (Debian's defaults would add some). */
  reposDir: string;
}

const bool = (b: boolean) => (b ? '1' : '0');

/** Refuses values that would break the INI file (a newline would start a new key). */
function iniValue(key: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`dnf config value for ${key} contains a line break: ${JSON.stringify(value)}`);
  return `${key}=${value}`;
}

/** `[main]`: isolation first. Without our own config Debian's dnf.conf makes an unreachable repo exit 0. */
/** The [main] lines that keep one run's dnf to itself: its own cache, logs, state, no system repos. */
function isolatedMain(dirs: DnfIsolation): string[] {
  return [
    iniValue('cachedir', dirs.cacheDir),
    iniValue('logdir', dirs.logDir),
    iniValue('persistdir', dirs.persistDir),
    iniValue('reposdir', dirs.reposDir),
    'keepcache=0',
    // A repo we cannot reach must fail the task, never be skipped (repo-tools-on-debian.md summary).
    'skip_if_unavailable=0',
    // Per-task caches mean no lock is ever shared; if one is, fail now rather than wait for ever.
    'exit_on_lock=1',
  ];
}

export function renderDnfMain(dirs: DnfIsolation, plan: Pick<ComposePlan, 'composeId' | 'gpgCheck' | 'repoGpgCheck'>): string[] {
  return [
    `# dnf config for compose ${plan.composeId}; written by sigrelease, used only by this run`,
    '[main]',
    ...isolatedMain(dirs),
    'deltarpm=0',
    'fastestmirror=0',
    'install_weak_deps=0',
    'plugins=1',
    `gpgcheck=${bool(plan.gpgCheck)}`,
    `repo_gpgcheck=${bool(plan.repoGpgCheck)}`,
    '',
  ];
}

/** One section per task: the concrete URL of that arch, so the section name must be the (unique) task name. */
export function renderDnfSection(task: ReposyncTask, plan: Pick<ComposePlan, 'gpgCheck' | 'repoGpgCheck'>, gpgKeyUrls: string[]): string[] {
  const lines = [
    `[${task.section}]`,
    iniValue('name', task.section),
    iniValue('baseurl', task.baseUrl),
    'enabled=1',
    'skip_if_unavailable=0',
    `gpgcheck=${bool(plan.gpgCheck)}`,
    `repo_gpgcheck=${bool(plan.repoGpgCheck)}`,
  ];
  if (gpgKeyUrls.length > 0) lines.push(iniValue('gpgkey', gpgKeyUrls.join(' ')));
  lines.push('');
  return lines;
}

/**
 * The whole file: `[main]`, then one section per task in plan order (repos in config order; within a repo
 * binary/debug per arch, then source). `gpgKeyUrls` defaults to the plan's (already rewritten) key URLs;
 * `prepareCompose` passes `file://` URLs of the keys it fetched so no task depends on the key host.
 */
export function renderDnfConfig(plan: ComposePlan, dirs: DnfIsolation, gpgKeyUrls: string[] = plan.gpgKeys): string {
  const lines = renderDnfMain(dirs, plan);
  for (const task of plan.batches.flat()) lines.push(...renderDnfSection(task, plan, gpgKeyUrls));
  return lines.join('\n');
}

/** The repoclosure config's section name of a lookaside repo. */
export const lookasideSection = (name: string) => `lookaside-${name}`;

/**
 * Sections whose baseurl is a local synced folder, for `dnf repoclosure` over what we composed, then one per
 * lookaside repo (URL kept verbatim: dnf substitutes `$releasever` and `$basearch` itself).
 */
export function renderLocalRepoConfig(
  dirs: DnfIsolation,
  repos: { section: string; dir: string }[],
  lookaside: ReadonlyArray<{ name: string; baseUrl: string }> = [],
): string {
  const lines = [
    '# dnf config for repoclosure over the local compose; written by sigrelease',
    '[main]',
    ...isolatedMain(dirs),
    'gpgcheck=0',
    'repo_gpgcheck=0',
    '',
  ];
  for (const r of repos) {
    lines.push(`[${r.section}]`, iniValue('name', r.section), iniValue('baseurl', pathToFileURL(r.dir).href), 'enabled=1', 'gpgcheck=0', 'repo_gpgcheck=0', '');
  }
  for (const l of lookaside) {
    const section = lookasideSection(l.name);
    lines.push(`[${section}]`, iniValue('name', section), iniValue('baseurl', l.baseUrl), 'enabled=1', 'skip_if_unavailable=0', 'gpgcheck=0', 'repo_gpgcheck=0', '');
  }
  return lines.join('\n');
}
