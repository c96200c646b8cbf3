// `sigrelease doctor`: checks this host and says what is wrong in plain words: tools and their versions, the site
// and catalogue files, the roots and their markers, Temporal, our search attributes, and a worker on each queue.
// Exit 0 only when nothing failed.
import fs from 'node:fs';
import type { Command } from 'commander';
import { EXIT } from '../client.js';
import { connectionOptions, resolveTemporalAccess } from '../config/connection.js';
import { loadCatalogue, loadSite, type Catalogue } from '../config/load.js';
import type { SiteConfig } from '../config/schema.js';
import { allWell, check, formatReport, type Check } from '../doctor/report.js';
import { checkRoots } from '../doctor/roots.js';
import { checkTemporal, type TemporalTarget } from '../doctor/temporal.js';
import { checkTools } from '../doctor/tools.js';
import { action, print, siteFile, type GlobalOptions } from './common.js';

export function registerDoctorCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('doctor')
    .description('check this host: tools and versions, site and catalogue files, roots and markers, Temporal, search attributes, a worker on each queue')
    .action(
      action(async () => {
        const checks = await runDoctor(globals());
        const ok = allWell(checks);
        print(globals(), { ok, checks }, () => formatReport(checks));
        return ok ? EXIT.ok : EXIT.failed;
      }),
    );
}

export async function runDoctor(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const { site, checks: config } = checkConfig(opts, env);
  // The tool probes and the server checks wait on different things: run them side by side.
  const [tools, temporal] = await Promise.all([
    checkTools(env),
    site ? temporalChecks(site, env) : [check('temporal', 'server', 'skip', 'needs a valid site config')],
  ]);
  const roots = site ? checkRoots(site) : [check('roots', 'roots', 'skip', 'needs a valid site config')];
  return [...tools, ...config, ...roots, ...temporal];
}

function checkConfig(opts: GlobalOptions, env: NodeJS.ProcessEnv): { site: SiteConfig | null; checks: Check[] } {
  const checks: Check[] = [];
  const file = opts.site ?? env.SIGRELEASE_SITE ?? siteFile({});
  let site: SiteConfig | null = null;
  if (!fs.existsSync(file)) {
    checks.push(check('config', 'site config', 'fail', `${file} does not exist: pass --site FILE or set SIGRELEASE_SITE`));
  } else {
    try {
      site = loadSite(file);
      checks.push(check('config', 'site config', 'ok', file));
    } catch (e) {
      checks.push(check('config', 'site config', 'fail', (e as Error).message.split('\n').join('; ')));
    }
  }
  let catalogue: Catalogue | null = null;
  try {
    catalogue = loadCatalogue(opts.catalogue ?? env.SIGRELEASE_CATALOGUE);
    checks.push(check('config', 'SIG catalogue', 'ok', `${Object.keys(catalogue).length} SIGs`));
  } catch (e) {
    checks.push(check('config', 'SIG catalogue', 'fail', (e as Error).message.split('\n').join('; ')));
  }
  if (site && catalogue) {
    // A release the catalogue knows but the site gives no revision: every start of it is refused.
    const missing = [...new Set(Object.values(catalogue).flatMap((s) => Object.keys(s.releases)))].filter((r) => !site!.releases[r]).sort();
    if (missing.length > 0) {
      checks.push(check('config', 'releases', 'warn', `the catalogue has release(s) ${missing.join(', ')} without a revision under releases: in the site config; they cannot be started`));
    }
  }
  return { site, checks };
}

function temporalTarget(site: SiteConfig, env: NodeJS.ProcessEnv): TemporalTarget {
  const access = resolveTemporalAccess(site, env);
  const host = site.temporal.hostTaskQueue;
  return {
    connect: connectionOptions(access),
    address: access.address,
    namespace: access.namespace,
    queues: [
      { name: site.temporal.taskQueue, role: 'control', types: ['workflow', 'activity'] },
      ...(host ? [{ name: host, role: 'host', types: ['activity' as const] }] : []),
    ],
  };
}

/** The server checks, or one failure when the connection settings themselves are wrong (a TLS file, a token file). */
async function temporalChecks(site: SiteConfig, env: NodeJS.ProcessEnv): Promise<Check[]> {
  let target: TemporalTarget;
  try {
    target = temporalTarget(site, env);
  } catch (e) {
    return [check('temporal', 'server', 'fail', `the connection settings do not work: ${(e as Error).message.split('\n').join('; ')}`)];
  }
  return checkTemporal(target);
}
