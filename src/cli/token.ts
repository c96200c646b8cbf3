// `sigrelease token`: signing keys and JWTs for Temporal's authorization (deploy/README.md "Tokens").
//   token keys   --dir D              add a signing key (the first one, or the next one when rotating)
//   token issue  --dir D --subject S --role R [--namespace N] [--ttl 90d] [--out FILE]
//   token retire --dir D --kid K      drop an old key from the set the server trusts
//   token list   --dir D              the keys of the set, oldest first; the last one signs
import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { action } from './common.js';

interface IssueOptions {
  dir: string;
  subject: string;
  role?: string;
  permission?: string[];
  namespace: string;
  ttl: string;
  out?: string;
}

const repeat = (v: string, prev: string[] = []) => [...prev, v];

export function registerTokenCommand(program: Command): void {
  const token = program.command('token').description('signing keys and tokens for Temporal authorization (JWT, default claim mapper)');
  const dirOption = () => new Option('--dir <dir>', 'key folder: private/ (signing keys) and jwks/jwks.json (served to the server)').makeOptionMandatory();

  token
    .command('keys')
    .description('add a signing key: the first one, or the next one when rotating (older public keys stay trusted until retired)')
    .addOption(dirOption())
    .addOption(new Option('--alg <alg>', 'signature algorithm').choices(['ES256', 'RS256']).default('ES256'))
    .action(
      action(async (o: { dir: string; alg: 'ES256' | 'RS256' }) => {
        const { addSigningKey, keyFolder } = await import('../auth/tokens.js');
        const folder = keyFolder(path.resolve(o.dir));
        const kid = await addSigningKey(folder, o.alg);
        process.stdout.write(`${kid}\n`);
        process.stderr.write(`key ${kid} added; the server trusts ${folder.jwksFile} once it fetches it again (TEMPORAL_JWT_KEY_REFRESH)\n`);
      }),
    );

  token
    .command('issue')
    .description('sign a token with the newest key and print it (or write it, mode 0600, to --out)')
    .addOption(dirOption())
    .requiredOption('--subject <name>', 'who the token is for: a person, or a worker host')
    .addOption(new Option('--role <role>', 'reader: list and query; operator: also start, signal, cancel; worker: run workflows; admin: namespace set-up').choices(['reader', 'operator', 'worker', 'admin']))
    .option('--permission <ns:role>', 'a raw permission instead of --role (repeatable), e.g. sigrelease:read', repeat)
    .option('--namespace <ns>', 'the namespace --role applies to', process.env.TEMPORAL_NAMESPACE ?? 'sigrelease')
    .option('--ttl <duration>', 'validity: minutes, hours or days (30m, 12h, 90d)', '30d')
    .option('--out <file>', 'write the token here (mode 0600) instead of printing it')
    .action(
      action(async (o: IssueOptions) => {
        const { ConfigError } = await import('../config/load.js');
        const { issueToken, keyFolder, permissionsFor } = await import('../auth/tokens.js');
        if (Boolean(o.role) === Boolean(o.permission?.length)) throw new ConfigError('give either --role or --permission (one or more)');
        const permissions = o.role ? permissionsFor(o.role as 'reader', o.namespace) : o.permission!;
        const issued = await issueToken(keyFolder(path.resolve(o.dir)), { subject: o.subject, permissions, ttl: o.ttl });
        if (o.out) {
          fs.writeFileSync(o.out, `${issued.token}\n`, { mode: 0o600 });
          fs.chmodSync(o.out, 0o600); // an existing file keeps its mode on write
        } else {
          process.stdout.write(`${issued.token}\n`);
        }
        process.stderr.write(`token for ${o.subject}: ${permissions.join(', ')}; key ${issued.kid}; expires ${issued.expiresAt.toISOString()}\n`);
      }),
    );

  token
    .command('retire')
    .description('remove a key from the set the server trusts (tokens it signed stop working) and delete its private half')
    .addOption(dirOption())
    .requiredOption('--kid <kid>', 'the key to retire (see `token list`)')
    .action(
      action(async (o: { dir: string; kid: string }) => {
        const { keyFolder, retireSigningKey } = await import('../auth/tokens.js');
        retireSigningKey(keyFolder(path.resolve(o.dir)), o.kid);
        process.stderr.write(`key ${o.kid} retired\n`);
      }),
    );

  token
    .command('list')
    .description('the keys the server trusts, oldest first; the last one signs new tokens')
    .addOption(dirOption())
    .action(
      action(async (o: { dir: string }) => {
        const { keyFolder, readKeySet } = await import('../auth/tokens.js');
        for (const k of readKeySet(keyFolder(path.resolve(o.dir)))) process.stdout.write(`${k.kid}\t${k.alg}\n`);
      }),
    );
}
