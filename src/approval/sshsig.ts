// OpenSSH's own signing (`ssh-keygen -Y sign|verify`), for decisions and starts: the CLI signs with the
// approver's key (a private key file, or a public key file whose private half is in the ssh-agent); the worker
// verifies against the site's allowed_signers. Traps (reference/temporal-security-and-metrics.md §1): sign
// through stdin so an old .sig is never kept silently, always pass the namespace, feed the data on stdin, and
// read the reason from stderr (every failure exits 255).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

const TIMEOUT_MS = 30_000;

export class SigningError extends Error {}

/** Signs `message` under `namespace` with `keyFile`; returns the armored signature. */
export async function signMessage(message: string, namespace: string, keyFile: string): Promise<string> {
  const r = await execa('ssh-keygen', ['-Y', 'sign', '-n', namespace, '-f', keyFile], { input: message, timeout: TIMEOUT_MS, reject: false, stripFinalNewline: false });
  if (r.exitCode !== 0 || !r.stdout.includes('BEGIN SSH SIGNATURE')) {
    const why = r.stderr.split('\n').find((l) => l.trim() !== '' && !l.startsWith('Signing data')) ?? `exit code ${r.exitCode}`;
    throw new SigningError(`could not sign with ${keyFile}: ${why.trim()}`);
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
    const r = await execa('ssh-keygen', ['-Y', 'verify', '-f', opts.allowedSigners, '-I', opts.principal, '-n', opts.namespace, '-s', sigFile], {
      input: opts.message,
      timeout: TIMEOUT_MS,
      reject: false,
      env: { LC_ALL: 'C' },
    });
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
