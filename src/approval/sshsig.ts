// OpenSSH's own signing (`ssh-keygen -Y sign|verify`), for decisions and starts: the CLI signs with the
// approver's key (a private key file, or a public key file whose private half is in the ssh-agent); the worker
// verifies against the site's allowed_signers. Traps (reference/temporal-security-and-metrics.md §1): sign
// through stdin so an old .sig is never kept silently, always pass the namespace, feed the data on stdin, and
// read the reason from stderr (every failure exits 255). Both run through the one tool runner (src/tools/run.ts):
// a verify dies with its worker; a sign stays on the person's terminal, where ssh-keygen may ask a passphrase.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { classifyToolExit, SSH_KEYGEN_EXITS } from '../tools/exit-codes.js';
import { runTool } from '../tools/run.js';

const TIMEOUT_MS = 30_000;

export class SigningError extends Error {}

/** Signs `message` under `namespace` with `keyFile`; returns the armored signature. */
export async function signMessage(message: string, namespace: string, keyFile: string): Promise<string> {
  const r = await runTool('ssh-keygen', ['-Y', 'sign', '-n', namespace, '-f', keyFile], { input: message, timeoutMs: TIMEOUT_MS, terminal: true });
  const failure = classifyToolExit(SSH_KEYGEN_EXITS, r);
  if (failure || !r.stdout.includes('BEGIN SSH SIGNATURE')) {
    const why = r.stderr.split('\n').find((l) => l.trim() !== '' && !l.startsWith('Signing data')) ?? failure?.meaning ?? `exit code ${r.exitCode}`;
    throw new SigningError(`could not sign with ${keyFile}: ${r.spawnError ? `${failure?.meaning}; ${failure?.advice}` : why.trim()}`);
  }
  return r.stdout;
}

export type Verification = { ok: true; principal: string; keyFingerprint: string } | { ok: false; reason: string };

/**
 * Verifies `signature` over `message` as made by `principal` under `namespace`, against `allowedSigners`.
 * A failed verification is an answer, not an error: the reason says why (ssh-keygen's own words).
 */
export async function verifyMessage(opts: { message: string; signature: string; principal: string; namespace: string; allowedSigners: string }): Promise<Verification> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelease-sshsig-'));
  try {
    const sigFile = path.join(dir, 'decision.sig');
    await fs.writeFile(sigFile, opts.signature, { mode: 0o600 });
    const r = await runTool('ssh-keygen', ['-Y', 'verify', '-f', opts.allowedSigners, '-I', opts.principal, '-n', opts.namespace, '-s', sigFile], {
      input: opts.message,
      timeoutMs: TIMEOUT_MS,
    });
    // A missing ssh-keygen or a kill refuses the decision too, but says that the worker, not the signature, is at fault.
    const failure = classifyToolExit(SSH_KEYGEN_EXITS, r);
    if (failure && failure !== SSH_KEYGEN_EXITS.codes[255]) return { ok: false, reason: `could not verify on this worker: ${failure.meaning}; ${failure.advice}` };
    // Good "<namespace>" signature for <principal> with <TYPE> key SHA256:...
    const good = /^Good "([^"]+)" signature for (\S+) with \S+ key (SHA256:\S+)/m.exec(r.stdout);
    if (r.exitCode === 0 && good && good[1] === opts.namespace && good[2] === opts.principal) {
      return { ok: true, principal: good[2]!, keyFingerprint: good[3]! };
    }
    const why = r.stderr
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '');
    return { ok: false, reason: why ? `the signature does not verify: ${why}` : `no key of ${opts.principal} in approval.allowedSigners made this signature for this message` };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
