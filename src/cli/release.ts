// `sigrelease start | approve | reject | status`: one release of one SIG, by hand. The compose flags are the
// `sync_sig` flags release engineers already know. Every body checks its input, then loads the SDK and connects.
import type { Command } from 'commander';
import { checkRequest } from '../config/request.js';
import { planCompose } from '../compose/plan.js';
import { composeStamp } from '../paths.js';
import { CliError, EXIT } from '../errors.js';
import type { SiteConfig } from '../config/schema.js';
import { action, checkReleaseArg, checkSigArg, loadConfig, loadSiteConfig, onlySig, print, type GlobalOptions } from './common.js';
import type { Decision } from '../../workflows/messages.js';
import { boundsProblem } from '../../workflows/gate.js';
import { PRINCIPAL } from '../../workflows/signedMessages.js';
import { FINAL_STAGES } from '../stages.js';

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
const BOOLEAN_KEYS = ['hashed', 'cleanOldPackages', 'fullRun', 'dryRun', 'ignoreDebug', 'ignoreSource', 'refreshExtraFiles', 'repoclosure', 'disableGpgCheck', 'disableRepoGpgCheck', 'composeOnly', 'allowLargeDeletion'] as const;

export function register(program: Command, globals: () => GlobalOptions): void {
  registerStart(program, globals);
  registerDecisions(program, globals);
  registerStatus(program, globals);
}

function registerStart(program: Command, globals: () => GlobalOptions): void {
  program
    .command('start')
    .description('start the release pipeline of one SIG and release (compose → staging → approval → production → file lists)')
    .requiredOption('--release <major>', 'major release, e.g. 9')
    .requiredOption('--sig <sig>', 'SIG name, e.g. core')
    .option('--repo <repos>', 'only these repos (comma list; in-place runs only)', list)
    .option('--arch <arches>', 'only these arches (comma list, "source" for sources)', list)
    .option('--hashed', 'sync the hashed-<repo> variant (Packages/<letter>/ layout)')
    .option('--clean-old-packages', 'delete local packages that left upstream (reposync --delete)')
    .option('--full-run', 'new dated compose folder, then flip latest-SIG-<sig>-<rel>')
    .option('--dry-run', 'say what would be synced; write nothing')
    .option('--ignore-debug', 'skip debug repos')
    .option('--ignore-source', 'skip source repos')
    .option('--refresh-extra-files', 'redeploy the extra files (metadata/) in an in-place run')
    .option('--repoclosure', 'check every repo with dnf repoclosure before latest moves (also site compose.repoclosure)')
    .option('--disable-gpg-check', 'do not check package signatures')
    .option('--disable-repo-gpg-check', 'do not check repomd.xml signatures')
    .option('--compose-only', 'stop after the compose (no staging, no approval, no production)')
    .option('--allow-large-deletion', 'let syncs delete more than the deletion guard allows')
    .option('--from <stage>', 'enter the pipeline at: compose (default), staging (re-stage what latest points to), gate (ask approval for what staging holds), lists (republish the file lists)')
    .option('--attach', 'if a run of this SIG and release is going, follow it instead of failing')
    .option('--no-wait', 'return as soon as the run has started')
    .option('--requested-by <name>', 'recorded in the run (your name in approval.allowedSigners when the start is signed)', process.env.SUDO_USER ?? process.env.USER)
    .option('--key <file>', 'sign the start with this SSH key (default where the site requires signatures: the ssh-agent)')
    .option('--no-sign', 'start unsigned even where the site requires signatures (then nobody can approve it if self-approval is forbidden)')
    .action(action(async (o: Record<string, unknown>) => startCommand(o, globals())));
}

async function startCommand(o: Record<string, unknown>, g: GlobalOptions): Promise<number> {
  const { site, catalogue } = loadConfig(g, onlySig(o.sig));
  const raw: Record<string, unknown> = {
    release: o.release,
    sig: o.sig,
    ...(o.repo ? { repos: o.repo } : {}),
    ...(o.arch ? { arches: o.arch } : {}),
  };
  for (const k of BOOLEAN_KEYS) if (o[k]) raw[k] = true;
  if (o.from !== undefined) raw.from = o.from;
  if (o.requestedBy) raw.requestedBy = o.requestedBy;
  // Everything startRelease checks, checked here first: a refusal must not depend on a server being up.
  const { request, resolved } = checkRequest(raw, catalogue, site);
  planCompose(request, resolved, site, composeStamp(Date.now()));
  // A signed start says who started the run, so that they cannot approve it too (approval.forbidSelfApproval).
  const sign = startSigning(site, o, String(o.requestedBy ?? ''));

  const { connectClient, startRelease, releaseStatus } = await import('../client.js');
  const { formatStatus } = await import('./format.js');
  const client = await connectClient(site);
  const handle = await startRelease(client, site, catalogue, raw, { attach: Boolean(o.attach), ...(sign ? { sign } : {}) });
  if (!g.json) process.stderr.write(`started ${handle.workflowId}\n`);
  if (o.wait === false) {
    print(g, { workflowId: handle.workflowId }, () => handle.workflowId);
    return EXIT.ok;
  }
  // Wait until a person is needed or the run is over.
  for (;;) {
    const desc = await handle.describe();
    if (desc.status.name !== 'RUNNING') break;
    const st = await releaseStatus(client, request.release, request.sig).catch(() => null);
    if (st?.stage === 'awaiting-approval') {
      print(g, st, () => formatStatus(st));
      return EXIT.ok;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  try {
    const result = await handle.result();
    print(g, result, () =>
      [
        `${handle.workflowId}: ${result.outcome}`,
        // A dry run's answer is the plan: every task, where it reads from and where it would write.
        ...(result.outcome === 'dry-run' ? result.compose.planned.map((t) => `  ${t.name}: ${t.baseUrl} -> ${t.relDir}`) : []),
        ...result.warnings.map((w) => `warning: ${w}`),
      ].join('\n'),
    );
    return ['promoted', 'composed', 'dry-run', 'published'].includes(result.outcome) ? EXIT.ok : EXIT.notPromoted;
  } catch (e) {
    // Another pipeline of this SIG and release holds the turn (workflows/pipelineTurn.ts): a conflict, like a second start.
    if (failureType(e) === 'PipelineBusy') throw new CliError(`${handle.workflowId} was refused: ${innermost(e)}`, EXIT.conflict);
    throw new CliError(`${handle.workflowId} failed: ${innermost(e)}`, EXIT.failed);
  }
}

interface DecisionOptions {
  by: string;
  comment?: string;
  allowLargeDeletion?: boolean;
  signal?: boolean;
  compose?: string;
  key?: string;
  sign?: boolean;
  printSigned?: boolean;
}

/** The decision's own fields, bounded as the gate bounds them: refused here before anything is contacted. */
function decisionClaims(o: DecisionOptions): Decision {
  if (!o.by.trim()) throw new CliError(`--by ${JSON.stringify(o.by)}: say who decides (no USER in the environment to default to)`, EXIT.badInput);
  const decision: Decision = { by: o.by.trim(), ...(o.comment ? { comment: o.comment } : {}), ...(o.allowLargeDeletion ? { allowLargeDeletion: true } : {}) };
  const problem = boundsProblem(decision);
  if (problem) throw new CliError(problem.replace('"by"', '--by').replace('"comment"', '--comment'), EXIT.badInput);
  return decision;
}

function registerDecisions(program: Command, globals: () => GlobalOptions): void {
  for (const verb of ['approve', 'reject'] as const) {
    program
      .command(`${verb} <release> <sig>`)
      .description(`${verb} the release waiting at the gate (signed with your SSH key where the site requires it)`)
      .option('--by <name>', 'who decides: your name in approval.allowedSigners', process.env.SUDO_USER ?? process.env.USER ?? '')
      .option('--comment <text>', 'why')
      .option('--allow-large-deletion', 'approve although the production preview tripped the deletion guard')
      .option('--key <file>', 'sign with this SSH key (a private key, or a public key whose private half is in the ssh-agent)')
      .option('--no-sign', 'send the decision unsigned (sites that do not require signatures)')
      .option('--print-signed', 'print the signed decision as JSON (for the Web UI or `temporal workflow signal --input`) instead of sending it')
      .option('--signal', 'send a signal instead of an update (works while no worker runs; refusals only show in status)')
      .option('--compose <id>', 'the compose you decide on (default: the one `status` shows at the gate); a run with another compose refuses')
      .action(
        action(async (release: string, sig: string, o: DecisionOptions) => {
          checkReleaseArg(release);
          checkSigArg(sig);
          const claims = decisionClaims(o);
          const site = loadSiteConfig(globals());
          // Signed when asked to, or when this site requires it (then the key is --key or the ssh-agent's first).
          const signing = o.key !== undefined || o.printSigned === true || (o.sign !== false && site.approval.requireSignature);
          const { connectClient, decide, releaseStatus } = await import('../client.js');
          const client = await connectClient(site);
          // The decision names the compose the person looked at, so that it cannot approve another one.
          // A signal may be sent while no worker answers queries: then only --compose names it.
          const composeId = o.compose ?? (o.signal ? undefined : (await releaseStatus(client, release, sig)).fingerprint?.composeId);
          const decision: Decision = { ...claims, ...(composeId ? { composeId } : {}) };
          const sent = signing ? await (await import('./runs.js')).signedDecision(client, release, sig, verb, decision, o.key) : decision;
          if (o.printSigned) {
            print(globals(), sent, () => JSON.stringify(sent));
            return;
          }
          const ack = await decide(client, release, sig, verb === 'approve', sent, o.signal ? 'signal' : 'update');
          const signer = ack?.decision.signed ? ` (signature by ${ack.decision.signed.principal}, key ${ack.decision.signed.keyFingerprint})` : '';
          print(globals(), ack ?? { sent: true }, () => (ack ? `${verb}d ${sig} ${release} as ${claims.by}${signer}` : `${verb} signal sent to ${sig} ${release}; see \`sigrelease status ${release} ${sig}\``));
        }),
      );
  }
}

function registerStatus(program: Command, globals: () => GlobalOptions): void {
  program
    .command('status <release> <sig>')
    .description('stage, compose progress, the preview of what production will get, and the decision')
    .option('--watch', 'refresh until the run ends')
    .action(
      action(async (release: string, sig: string, o: { watch?: boolean }) => {
        checkReleaseArg(release);
        checkSigArg(sig);
        const site = loadSiteConfig(globals());
        const { connectClient, releaseStatus } = await import('../client.js');
        const { formatStatus } = await import('./format.js');
        const client = await connectClient(site);
        for (;;) {
          const st = await releaseStatus(client, release, sig);
          if (o.watch && process.stdout.isTTY && !globals().json) process.stdout.write('\x1b[2J\x1b[H');
          print(globals(), st, () => formatStatus(st, { tty: Boolean(process.stdout.isTTY) }));
          if (!o.watch || FINAL_STAGES.includes(st.stage)) return;
          await new Promise((r) => setTimeout(r, 2000));
        }
      }),
    );
}

/** The innermost typed failure's type along the cause chain, if any. */
function failureType(e: unknown): string | undefined {
  let type: string | undefined;
  for (let err = e as { cause?: unknown; type?: unknown } | undefined, depth = 0; err && depth < 20; err = err.cause as typeof err, depth++) {
    if (typeof err.type === 'string') type = err.type;
  }
  return type;
}

function innermost(e: unknown): string {
  let err = e as { cause?: unknown; message?: string } | undefined;
  while (err?.cause) err = err.cause as typeof err;
  return err?.message ?? String(e);
}

/**
 * How a start is signed (a release, a rollback, a vault): when asked to (--key) or when the site requires
 * signatures, unless --no-sign; the signer's principal is `by`. Checked before anything connects.
 */
export function startSigning(site: SiteConfig, o: { sign?: boolean; key?: unknown }, by: string): { by: string; keyFile?: string } | undefined {
  const signing = o.sign !== false && (o.key !== undefined || site.approval.requireSignature);
  if (!signing) return undefined;
  if (!PRINCIPAL.test(by)) {
    throw new CliError(`--requested-by ${JSON.stringify(by)} must be a principal name (letters, digits and ._@-, at most 64 characters) to sign the start`, EXIT.badInput);
  }
  return { by, ...(typeof o.key === 'string' ? { keyFile: o.key } : {}) };
}
