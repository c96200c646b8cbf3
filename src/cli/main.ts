// `sigrelease`: start, worker, and the registration of every other command (approve, reject, status, list,
// cancel in runs.ts; schedule, server, demo, filelist in their own files).
// The compose flags are the `sync_sig` flags release engineers already know.
import { Command, Option } from 'commander';
import { CliError, EXIT, connectClient, releaseStatus, startRelease } from '../client.js';
import { action, loadConfig, print, type GlobalOptions } from './common.js';
import { formatStatus } from './format.js';
import { registerFilelistCommand } from './filelist.js';
import { registerDemoCommand } from './demo.js';
import { registerServerCommands } from './server.js';
import { registerRunsCommands } from './runs.js';
import { registerScheduleCommands } from './schedule.js';
import { innermostMessage } from '../../workflows/failures.js';

const program = new Command('sigrelease')
  .description('Compose, stage, approve, promote and publish Rocky Linux SIG repositories, durably, on Temporal')
  .option('--site <file>', 'site config (default: $SIGRELEASE_SITE, then config/site.yaml)')
  .option('--catalogue <dir>', 'SIG catalogue folder (default: config/sigs)')
  .option('--json', 'machine-readable output')
  .showHelpAfterError()
  // Usage errors (missing option, unknown flag) are bad input for scripts: exit 2, like our own refusals.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.badInput))
  .addHelpText(
    'after',
    `\nExit codes: 0 ok, 1 failed, 2 bad input or refused, 3 not found, 4 already running, 5 finished without promotion (rejected, expired).`,
  );
const globals = () => program.opts<GlobalOptions>();
const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

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
  .option('--attach', 'if a run of this SIG and release is going, follow it instead of failing')
  .option('--no-wait', 'return as soon as the run has started')
  .option('--requested-by <name>', 'recorded in the run (your name in approval.allowedSigners when the start is signed)', process.env.SUDO_USER ?? process.env.USER)
  .option('--key <file>', 'sign the start with this SSH key (default where the site requires signatures: the ssh-agent)')
  .option('--no-sign', 'start unsigned even where the site requires signatures (then nobody can approve it if self-approval is forbidden)')
  .action(
    action(async (o: Record<string, unknown>) => {
      const { site, catalogue } = loadConfig(globals());
      const raw: Record<string, unknown> = {
        release: o.release,
        sig: o.sig,
        ...(o.repo ? { repos: o.repo } : {}),
        ...(o.arch ? { arches: o.arch } : {}),
      };
      for (const k of ['hashed', 'cleanOldPackages', 'fullRun', 'dryRun', 'ignoreDebug', 'ignoreSource', 'refreshExtraFiles', 'repoclosure', 'disableGpgCheck', 'disableRepoGpgCheck', 'composeOnly', 'allowLargeDeletion'] as const) {
        if (o[k]) raw[k] = true;
      }
      if (o.requestedBy) raw.requestedBy = o.requestedBy;
      const client = await connectClient(site);
      // A signed start says who started the run, so that they cannot approve it too (approval.forbidSelfApproval).
      const signing = o.sign !== false && (o.key !== undefined || site.approval.requireSignature);
      const sign = signing ? { by: String(o.requestedBy ?? ''), ...(typeof o.key === 'string' ? { keyFile: o.key } : {}) } : undefined;
      const handle = await startRelease(client, site, catalogue, raw, { attach: Boolean(o.attach), ...(sign ? { sign } : {}) });
      if (!globals().json) process.stderr.write(`started ${handle.workflowId}\n`);
      if (o.wait === false) {
        print(globals(), { workflowId: handle.workflowId }, () => handle.workflowId);
        return EXIT.ok;
      }
      // Wait until a person is needed or the run is over.
      for (;;) {
        const desc = await handle.describe();
        if (desc.status.name !== 'RUNNING') break;
        const st = await releaseStatus(client, String(o.release), String(o.sig)).catch(() => null);
        if (st?.stage === 'awaiting-approval') {
          print(globals(), st, () => formatStatus(st));
          return EXIT.ok;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
      try {
        const result = await handle.result();
        print(globals(), result, () =>
          [
            `${handle.workflowId}: ${result.outcome}`,
            // A dry run's answer is the plan: every task, where it reads from and where it would write.
            ...(result.outcome === 'dry-run' ? result.compose.planned.map((t) => `  ${t.name}: ${t.baseUrl} -> ${t.relDir}`) : []),
            ...result.warnings.map((w) => `warning: ${w}`),
          ].join('\n'),
        );
        return result.outcome === 'promoted' || result.outcome === 'composed' || result.outcome === 'dry-run' ? EXIT.ok : EXIT.notPromoted;
      } catch (e) {
        throw new CliError(`${handle.workflowId} failed: ${innermostMessage(e)}`, EXIT.failed);
      }
    }),
  );

program
  .command('worker')
  .description('run the worker(s) that execute releases')
  .addOption(new Option('--queues <queues>', 'which queues to poll: control (workflows, light work), host (reposync, rsync; needs the mounts)').default('control,host'))
  .option('--max-host-activities <n>', 'heavy activities at once on this host', (v) => Number(v))
  .action(
    action(async (o: { queues: string; maxHostActivities?: number }) => {
      const { site, catalogue } = loadConfig(globals());
      const queues = o.queues.split(',').map((q) => q.trim());
      for (const q of queues) if (q !== 'control' && q !== 'host') throw new CliError(`unknown queue "${q}"; use control, host or both`, EXIT.badInput);
      const { createWorkers } = await import('../worker.js');
      const address = process.env.TEMPORAL_ADDRESS ?? site.temporal.address;
      const namespace = process.env.TEMPORAL_NAMESPACE ?? site.temporal.namespace;
      const { workers, close } = await createWorkers({
        address,
        namespace,
        site,
        catalogue,
        queues: queues as Array<'control' | 'host'>,
        ...(o.maxHostActivities ? { maxHostActivities: o.maxHostActivities } : {}),
      });
      process.stderr.write(`worker polling ${workers.map((w) => w.options.taskQueue).join(', ')} at ${address}\n`);
      const stop = () => workers.forEach((w) => w.shutdown());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await Promise.all(workers.map((w) => w.run()));
      await close();
    }),
  );

registerRunsCommands(program, globals);
registerScheduleCommands(program, globals);
registerServerCommands(program, globals);
registerDemoCommand(program, globals);
registerFilelistCommand(program);


await program.parseAsync(process.argv);
