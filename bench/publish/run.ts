// Publication benchmark: what our staging sync, gate preview, production sync (all three passes in one call,
// as the release workflow makes it when publish.metadataGrace is 0) and hardlink pass cost, against the seed's
// one plain `rsync -a --delete` + `hardlink -x '.*\.xml.*'` of the same trees.
//   npx tsx bench/publish/run.ts [--files 50000] [--share 0.05] [--rounds 3]
// The tree: an EL-shaped SIG of small files (bench/publish/tree.ts) as production and staging hold it, and its
// next release as a compose (5% of packages added, 5% changed, 5% deleted, repodata of every touched repo
// rewritten). Ours runs the activities as the worker serves them (activities/index.ts: root markers, paths
// checked against the site config and catalogue, the production fence), in-process, with a site config whose
// roots are this bench's temp folders. Each round starts both sides from fresh copies of the same trees.
// Prints the median of each step, then `prod_only_vs_plain_rsync=` (production sync + hardlink only) and, last,
// `prod_vs_plain_rsync=` (everything ours does from compose to hardlinked production / plain).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.js';
import { parseSite } from '../../src/config/load.js';
import { initRoots } from '../../src/config/roots.js';
import { sigFileSchema } from '../../src/config/schema.js';
import { composeDirName, composeLayout, productionReleaseDir, productionSigDir, stagingSigDir, type Roots } from '../../src/paths.js';
import { DEFAULT_HARDLINK_EXCLUDE } from '../../src/publish/hardlink.js';
import { deletionsOf } from '../../src/publish/guard.js';
import { stagingDigest } from '../../src/publish/staging-digest.js';
import { median } from '../compose/plain.js';
import { buildSigTree, nextRelease } from './tree.js';

const { values: opt } = parseArgs({
  options: {
    files: { type: 'string', default: '50000' },
    share: { type: 'string', default: '0.05' },
    rounds: { type: 'string', default: '3' },
  },
});
const FILES = Number(opt.files);
const SHARE = Number(opt.share);
const ROUNDS = Number(opt.rounds);
const SIG = 'bench';
const REL = '9';

/** Runs one activity in a mock activity context (heartbeats go nowhere; `env.run` does not infer the result). */
const runActivity = <I, O>(fn: (input: I) => Promise<O>, input: I): Promise<O> => new MockActivityEnvironment().run(fn, input);
const timed = async <T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> => {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
};

/** `to` becomes a fresh copy of `from` (hard links inside it kept, as production has them). */
async function freshCopy(from: string, to: string): Promise<void> {
  await fs.rm(to, { recursive: true, force: true });
  await fs.mkdir(path.dirname(to), { recursive: true });
  await execa('cp', ['-a', from, to]);
}

type Steps = Record<string, number>;

async function main() {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-publish-'));
  try {
    const t0 = performance.now();
    // The release production holds (hardlinked, as the last promotion left it) and the compose of the next one.
    const before = path.join(tmp, 'trees', 'before', SIG);
    const built = buildSigTree(before, FILES);
    await execa('hardlink', ['--exclude', DEFAULT_HARDLINK_EXCLUDE, '--', path.dirname(before)]);
    const roots: Roots = { composeRoot: path.join(tmp, 'compose'), stagingRoot: path.join(tmp, 'staging'), productionRoot: path.join(tmp, 'production') };
    const site = parseSite({ ...roots, repoBaseUrl: 'http://127.0.0.1:9/unused', releases: { [REL]: { revision: '9.7' } }, owner: null, publish: { metadataGrace: '0s' } });
    initRoots(site);
    const catalogue = { [SIG]: sigFileSchema.parse({ sig: SIG, name: 'Bench', releases: { [REL]: { projectId: 'bench', repos: { common: { arches: ['x86_64'] } } } } }) };
    const layout = composeLayout(path.join(roots.composeRoot, REL, composeDirName(SIG, '9.7', '20260101000000')), REL, SIG, '20260101000000');
    await freshCopy(before, layout.sigRoot);
    const change = nextRelease(layout.sigRoot, SHARE);
    console.log(
      `tree: ${built.files} files (${(built.bytes / 1048576).toFixed(0)} MiB) in production and staging; the compose: +${change.added} ~${change.changed} -${change.deleted} packages, ` +
        `${change.repodataRewritten} repodata files rewritten; built in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const acts = createActivities({ site, catalogue });
    const staging = stagingSigDir(roots, REL, SIG);
    const production = productionSigDir(roots, REL, SIG);
    const guard = { maxDeleteShare: site.publish.maxDeleteShare };
    const plainRelease = path.join(tmp, 'plain', 'mirror', 'pub', 'sig', REL);

    const ours = async (round: number): Promise<Steps> => {
      await freshCopy(before, staging);
      await freshCopy(before, production);
      await execa('sync');
      const reports = path.join(layout.previews, `round-${round}`);
      const st = await timed(() => runActivity(acts.syncToStaging, { source: layout.sigRoot, target: staging, reportFile: `${reports}/staging.txt`, guard }));
      const gate = await timed(() => runActivity(acts.previewProduction, { source: staging, target: production, reportFile: `${reports}/production.txt`, guard }));
      if (!gate.value.guard.ok) throw new Error(`the deletion guard refused the bench's change: ${gate.value.guard.reason}`);
      // A new grant of the production lock per promotion: its fencing token goes up, as the lock's would.
      const fenceToken = round + 1;
      const prod = await timed(() =>
        runActivity(acts.syncToProduction, {
          source: staging,
          target: production,
          reportFile: `${reports}/production-sync.txt`,
          guard,
          allowLargeDeletion: false,
          approvedDeletions: deletionsOf(gate.value),
          expectedStagingDigest: gate.value.stagingDigest,
          fenceToken,
        }),
      );
      const link = await timed(() => runActivity(acts.hardlinkRelease, { dir: productionReleaseDir(roots, REL), fenceToken }));
      const pass = (n: number) => prod.value.passes.find((p) => p.pass === n)?.durationMs ?? 0;
      // Not timed above: what one digest of staging costs (syncToProduction and previewProduction each take one).
      const digest = await timed(() => stagingDigest(staging));
      return {
        staging: st.ms,
        gate: gate.ms,
        prod: prod.ms,
        pass1: pass(1),
        pass2: pass(2),
        pass3: pass(3),
        prodChecks: prod.ms - pass(1) - pass(2) - pass(3),
        hardlink: link.ms,
        digestProbe: digest.ms,
        total: st.ms + gate.ms + prod.ms + link.ms,
        prodOnly: prod.ms + link.ms,
        linked: link.value.linked,
      };
    };

    const plain = async (): Promise<Steps> => {
      const target = path.join(plainRelease, SIG);
      await freshCopy(before, target);
      await execa('sync');
      const rsync = await timed(() => execa('rsync', ['-a', '--delete', `${layout.sigRoot}/`, `${target}/`]));
      const link = await timed(() => execa('hardlink', ['-x', DEFAULT_HARDLINK_EXCLUDE, plainRelease]));
      return { rsync: rsync.ms, hardlink: link.ms, total: rsync.ms + link.ms };
    };

    const oursRounds: Steps[] = [];
    const plainRounds: Steps[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      oursRounds.push(await ours(i));
      plainRounds.push(await plain());
      // Both productions must hold the same files with the same bytes (modes and times aside).
      const diff = await execa('diff', ['-rq', '--no-dereference', production, path.join(plainRelease, SIG)], { reject: false });
      if (diff.exitCode !== 0) throw new Error(`our production and the plain one differ:\n${diff.stdout.slice(0, 2000)}`);
    }

    const m = (rounds: Steps[], key: string) => median(rounds.map((r) => r[key]!));
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`.padStart(9);
    console.log(`${ROUNDS} rounds, medians; load average ${(await fs.readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`);
    console.log(`ours   staging sync (preview + guard + rsync --delete-delay)     ${s(m(oursRounds, 'staging'))}`);
    console.log(`       gate: production preview + staging digest                 ${s(m(oursRounds, 'gate'))}`);
    console.log(`       production sync, one call                                 ${s(m(oursRounds, 'prod'))}`);
    console.log(`         digest check + fresh preview + guard + clean-up         ${s(m(oursRounds, 'prodChecks'))}`);
    console.log(`         pass 1 content                                          ${s(m(oursRounds, 'pass1'))}`);
    console.log(`         pass 2 repomd.xml (--checksum, --delay-updates)         ${s(m(oursRounds, 'pass2'))}`);
    console.log(`         pass 3 deletions (--delete-delay, --delay-updates)      ${s(m(oursRounds, 'pass3'))}`);
    console.log(`       hardlink pass (${m(oursRounds, 'linked')} linked)${' '.repeat(Math.max(1, 40 - String(m(oursRounds, 'linked')).length))}${s(m(oursRounds, 'hardlink'))}`);
    console.log(`       (one staging digest alone, not counted:                   ${s(m(oursRounds, 'digestProbe'))})`);
    console.log(`       total                                                     ${s(m(oursRounds, 'total'))}`);
    console.log(`plain  rsync -a --delete                                         ${s(m(plainRounds, 'rsync'))}`);
    console.log(`       hardlink -x '.*\\.xml.*'                                   ${s(m(plainRounds, 'hardlink'))}`);
    console.log(`       total                                                     ${s(m(plainRounds, 'total'))}`);
    console.log(`prod_only_vs_plain_rsync=${(m(oursRounds, 'prodOnly') / m(plainRounds, 'total')).toFixed(3)}`);
    console.log(`prod_vs_plain_rsync=${(m(oursRounds, 'total') / m(plainRounds, 'total')).toFixed(3)}`);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
