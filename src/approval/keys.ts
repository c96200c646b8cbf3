// Where the CLI's signing key comes from: `--key FILE` (a private key, or a public key whose private half is in
// the ssh-agent), else the first key the ssh-agent holds.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runTool } from '../tools/run.js';
import { SigningError, signMessage } from './sshsig.js';

/** Signs with `keyFile`, or with the agent's first key when no file is given. */
export async function signWithKeyOrAgent(message: string, namespace: string, keyFile: string | undefined): Promise<string> {
  if (keyFile) return signMessage(message, namespace, keyFile);
  if (!process.env.SSH_AUTH_SOCK) throw new SigningError('no key to sign with: pass --key ~/.ssh/id_ed25519, or load a key into the ssh-agent');
  const listed = await runTool('ssh-add', ['-L'], { timeoutMs: 10_000 });
  const first = listed.exitCode === 0 ? listed.stdout.split('\n').find((l) => l.trim() !== '') : undefined;
  if (!first) throw new SigningError('the ssh-agent holds no key: add one with ssh-add, or pass --key FILE');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelease-agent-key-'));
  try {
    // A public key file makes ssh-keygen ask the agent for the signature.
    const pub = path.join(dir, 'agent-key.pub');
    await fs.writeFile(pub, `${first}\n`, { mode: 0o600 });
    return await signMessage(message, namespace, pub);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
