// `sigrelease composes | rollback | vault | lists publish`: the release lifecycle beside `start` (issue 14 items
// 2, 3, 5). Each checks its input before the SDK loads (bad input: exit 2, whether a server is up or not); each
// run goes through the same workflow, gate and production lock as a release, and shows in `list` and `status`.
import type { Command } from 'commander';
import { checkRequest } from '../config/request.js';
import { CliError, EXIT } from '../errors.js';
import { composeIdProblem, vaultRevisionProblem } from '../lifecycle/names.js';
import { action, checkReleaseArg, checkSigArg, loadConfig, loadSiteConfig, onlySig, print, type GlobalOptions } from './common.js';
import { humanBytes } from '../publish/guard.js';
import { startSigning } from './release.js';

const who = () => process.env.SUDO_USER ?? process.env.USER;
/** --key and --no-sign, as `start` has them. */
type SigningOptions = { sign?: boolean; key?: string };

export function register(program: Command, globals: () => GlobalOptions): void {
  registerComposes(program, globals);
  registerRollback(program, globals);
  registerVault(program, globals);
  registerLists(program, globals);
}

function registerComposes(program: Command, globals: () => GlobalOptions): void {
  program
    .command('composes <release> <sig>')
    .description('list the composes on disk: time, manifest summary, and which one latest, staging and production came from')
    .action(
      action(async (release: string, sig: string) => {
        checkReleaseArg(release);
        checkSigArg(sig);
        const { site, catalogue } = loadConfig(globals(), [sig]);
        checkRequest({ release, sig }, catalogue, site);
        const { listComposes } = await import('../lifecycle/composes.js');
        const rows = await listComposes(site, release, sig);
        print(globals(), rows, () => {
          if (rows.length === 0) return `no composes of ${sig} ${release} in ${site.composeRoot}/${release}`;
          return rows
            .map((c) => {
              const marks = [c.latest && 'latest', c.staging && 'staging', c.production && 'production'].filter(Boolean).join(', ');
              const m = c.manifest ? `${c.manifest.tasks} tasks, ${c.manifest.packages} packages, ${humanBytes(c.manifest.bytes)}` : 'no manifest (failed or unfinished)';
              return `${c.name}  ${c.time}  ${m}${marks ? `  <- ${marks}` : ''}`;
            })
            .join('\n');
        });
      }),
    );
}

/** Starts a sigRelease run with `extra` added to the request, then follows it like `start` does. */
async function startEntry(g: GlobalOptions, release: string, sig: string, extra: Record<string, unknown>, wait: boolean, signing: SigningOptions = { sign: false }): Promise<number> {
  const { site, catalogue } = loadConfig(g, onlySig(sig));
  const raw = { release, sig, ...extra, ...(who() ? { requestedBy: who() } : {}) };
  checkRequest(raw, catalogue, site);
  // Signed like `start`, so that whoever started it cannot approve it too (approval.forbidSelfApproval).
  const sign = startSigning(site, signing, who() ?? '');
  const { connectClient, startRelease } = await import('../client.js');
  const { untilGateOrEnd } = await import('../lifecycle/start.js');
  const client = await connectClient(site);
  const handle = await startRelease(client, site, catalogue, raw, sign ? { sign } : {});
  if (!g.json) process.stderr.write(`started ${handle.workflowId}\n`);
  if (!wait) {
    print(g, { workflowId: handle.workflowId }, () => handle.workflowId);
    return EXIT.ok;
  }
  return report(g, await untilGateOrEnd(client, handle, release, sig));
}

async function report(g: GlobalOptions, end: Awaited<ReturnType<typeof import('../lifecycle/start.js').untilGateOrEnd>>): Promise<number> {
  if ('gate' in end) {
    const { formatStatus } = await import('./format.js');
    print(g, end.gate, () => formatStatus(end.gate));
    return EXIT.ok;
  }
  const r = end.result;
  print(g, r, () => [`${r.sig} ${r.release} (${r.mode}): ${r.outcome}`, ...r.fileLists.map((l) => `  lists in ${l.dir}: ${l.changed.length ? `changed ${l.changed.join(', ')}` : 'unchanged'}`), ...r.warnings.map((w) => `warning: ${w}`)].join('\n'));
  return ['promoted', 'published', 'vaulted'].includes(r.outcome) ? EXIT.ok : EXIT.notPromoted;
}

function registerRollback(program: Command, globals: () => GlobalOptions): void {
  program
    .command('rollback <release> <sig>')
    .description('take an earlier compose through staging, the approval gate and production again (a run with from "staging" and a composeId)')
    .requiredOption('--to <composeId>', 'the compose folder name (or compose ID) `sigrelease composes` lists')
    .option('--key <file>', 'sign the start with this SSH key (default where the site requires signatures: the ssh-agent)')
    .option('--no-sign', 'do not sign the start (then nobody can approve it where self-approval is forbidden)')
    .option('--no-wait', 'return as soon as the run has started')
    .action(
      action(async (release: string, sig: string, o: { to: string; wait?: boolean } & SigningOptions) => {
        checkReleaseArg(release);
        checkSigArg(sig);
        const problem = composeIdProblem(o.to);
        if (problem) throw new CliError(`--to: ${problem}`, EXIT.badInput);
        return startEntry(globals(), release, sig, { from: 'staging', composeId: o.to }, o.wait !== false, o);
      }),
    );
}

function registerVault(program: Command, globals: () => GlobalOptions): void {
  program
    .command('vault <release>')
    .description('copy production sig/<release>/ into vault/sig/<x.y>/ after approval (no deletion there), then publish the root file lists')
    .requiredOption('--revision <x.y>', 'the minor release the vault folder is named after, e.g. 9.5')
    .option('--key <file>', 'sign the start with this SSH key (default where the site requires signatures: the ssh-agent)')
    .option('--no-sign', 'do not sign the start (then nobody can approve it where self-approval is forbidden)')
    .option('--no-wait', 'return as soon as the run has started')
    .action(
      action(async (release: string, o: { revision: string; wait?: boolean } & SigningOptions) => {
        checkReleaseArg(release);
        const problem = vaultRevisionProblem(o.revision, release);
        if (problem) throw new CliError(problem, EXIT.badInput);
        const g = globals();
        const site = loadSiteConfig(g);
        if (!site.releases[release]) throw new CliError(`vault: unknown release ${JSON.stringify(release)}; known: ${Object.keys(site.releases).sort().join(', ')}`, EXIT.badInput);
        const sign = startSigning(site, o, who() ?? '');
        const { connectClient } = await import('../client.js');
        const { startVault, untilGateOrEnd } = await import('../lifecycle/start.js');
        const client = await connectClient(site);
        const handle = await startVault(client, site, { release, revision: o.revision, ...(who() ? { requestedBy: who() } : {}) }, sign ? { sign } : {});
        if (!g.json) process.stderr.write(`started ${handle.workflowId}\n`);
        if (o.wait === false) {
          print(g, { workflowId: handle.workflowId }, () => handle.workflowId);
          return EXIT.ok;
        }
        return report(g, await untilGateOrEnd(client, handle, release, 'vault'));
      }),
    );
}

function registerLists(program: Command, globals: () => GlobalOptions): void {
  const lists = program.command('lists').description('the production file lists');
  lists
    .command('publish <release> <sig>')
    .description('republish the file lists alone (a run with from "lists"): each list only if it changed, with -old, alias and owner')
    .option('--level <level>', 'sig (the sig category) or root (the production root); default: the levels a release writes')
    .option('--no-wait', 'return as soon as the run has started')
    .action(
      action(async (release: string, sig: string, o: { level?: string; wait?: boolean }) => {
        checkReleaseArg(release);
        checkSigArg(sig);
        if (o.level !== undefined && o.level !== 'sig' && o.level !== 'root') throw new CliError(`--level ${JSON.stringify(o.level)} must be sig or root`, EXIT.badInput);
        return startEntry(globals(), release, sig, { from: 'lists', ...(o.level ? { listLevel: o.level } : {}) }, o.wait !== false);
      }),
    );
}
