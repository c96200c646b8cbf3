// What a tool's exit means, one table per tool (rsync's, the largest, is src/publish/exit-codes.ts). Pure.
// A table turns a finished run (exit code, signal, spawn error, timeout) into nothing (success) or a failure class
// with a stable type, whether a retry can help, and what to do: the activity only copies it into its failure.
// Output-based rules that refine a code (dnf reposync's `[FAILED]` lines, repoclosure's unresolved dependencies)
// stay with the tool's parser in src/compose/, which consults the table for the exit code itself.

export interface ToolFailureClass {
  /** Stable failure type, for `ApplicationFailure.type` and tests. */
  type: string;
  retryable: boolean;
  /** What the code means, in words. */
  meaning: string;
  /** What an operator should do about it. */
  advice: string;
}

export interface ExitTable {
  tool: string;
  /** Codes that mean success besides 0 (repoclosure: none; hardlink: none). */
  ok?: readonly number[];
  codes: Readonly<Record<number, ToolFailureClass>>;
  /** Any other non-zero code. */
  otherwise: ToolFailureClass;
  /** The program is not installed or not executable. */
  missing: ToolFailureClass;
}

export interface ToolExit {
  exitCode: number | undefined | null;
  signal?: string | undefined | null;
  spawnError?: Error | undefined;
  timedOut?: boolean;
}

/** Null when the run succeeded; otherwise the failure class of its table. */
export function classifyToolExit(table: ExitTable, exit: ToolExit): ToolFailureClass | null {
  if (exit.spawnError) return table.missing;
  if (exit.timedOut) {
    return { type: `${typeName(table.tool)}TimedOut`, retryable: true, meaning: `${table.tool} did not finish in time and was killed`, advice: 'it will be retried' };
  }
  if (exit.exitCode === undefined || exit.exitCode === null) {
    return {
      type: `${typeName(table.tool)}Killed`,
      retryable: true,
      meaning: exit.signal ? `${table.tool} was killed by ${exit.signal}` : `${table.tool} ended without an exit code`,
      advice: 'something outside sigrelease killed it (OOM killer, operator); it will be retried',
    };
  }
  if (exit.exitCode === 0 || table.ok?.includes(exit.exitCode)) return null;
  return table.codes[exit.exitCode] ?? table.otherwise;
}

const typeName = (tool: string) =>
  tool
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

/** One message for people: what failed, with the code, what it means and what to do. */
export function describeToolFailure(cls: ToolFailureClass, exit: ToolExit, what: string, stderrTail = ''): string {
  const code = exit.exitCode === undefined || exit.exitCode === null ? (exit.signal ? `signal ${exit.signal}` : 'no exit code') : `exit code ${exit.exitCode}`;
  return (
    `${what}: ${code} (${cls.meaning}). ${cls.retryable ? 'Retryable' : 'Not retryable'}: ${cls.advice}.` + (stderrTail ? `\nLast output lines:\n${stderrTail}` : '')
  );
}

const missing = (tool: string, pkg: string): ToolFailureClass => ({
  type: `${typeName(tool)}NotFound`,
  retryable: false,
  meaning: `${tool} is not installed or not executable on the worker host`,
  advice: `install ${pkg} on the worker host (scripts/setup.sh does)`,
});

/** dnf(8) EXIT STATUS: 1 an error occurred (the output says which), 200 a problem with the lock file. */
export const DNF_EXITS: ExitTable = {
  tool: 'dnf',
  codes: {
    1: { type: 'DnfFailed', retryable: true, meaning: 'dnf reported an error', advice: 'see the output; the parser names the cause when it knows it' },
    3: { type: 'DnfFailed', retryable: false, meaning: 'dnf was given an unknown option or command', advice: 'install dnf-plugins-core (reposync, repoclosure) on the worker host' },
    200: { type: 'DnfLocked', retryable: true, meaning: 'another dnf holds the lock file', advice: 'our runs use private state folders; another dnf on the host is sharing them: it will be retried' },
  },
  otherwise: { type: 'DnfFailed', retryable: true, meaning: 'dnf failed', advice: 'see the output; it will be retried' },
  missing: missing('dnf', 'dnf and dnf-plugins-core'),
};

/** `dnf repoclosure`: 1 when dependencies do not resolve (a verdict, not a fault: parsed from the output). */
export const REPOCLOSURE_EXITS: ExitTable = {
  tool: 'dnf repoclosure',
  ok: [1],
  codes: { 3: DNF_EXITS.codes[3]!, 200: DNF_EXITS.codes[200]! },
  otherwise: { type: 'RepoclosureFailed', retryable: true, meaning: 'dnf repoclosure failed before it could judge', advice: 'see the output; it will be retried' },
  missing: missing('dnf', 'dnf and dnf-plugins-core'),
};

/** rpm: 0 or the number of failed operations; an import of a key that does not parse is final. */
export const RPM_EXITS: ExitTable = {
  tool: 'rpm',
  codes: {},
  otherwise: { type: 'RpmFailed', retryable: false, meaning: 'rpm failed', advice: 'check that the key file is an armored OpenPGP public key (the SIG catalogue names its URL)' },
  missing: missing('rpm', 'rpm'),
};

/** util-linux hardlink: 0 success, 1 failure (it only warns on a missing folder, so callers check that first). */
export const HARDLINK_EXITS: ExitTable = {
  tool: 'hardlink',
  codes: {},
  otherwise: { type: 'HardlinkFailed', retryable: true, meaning: 'hardlink failed', advice: 'see stderr; it will be retried' },
  missing: { ...missing('hardlink', 'util-linux hardlink 2.36 or later'), type: 'HardlinkNotFound' },
};

/** createrepo_c: 0 success, 1 any error (fixtures and tests). */
export const CREATEREPO_EXITS: ExitTable = {
  tool: 'createrepo_c',
  codes: {},
  otherwise: { type: 'CreaterepoFailed', retryable: false, meaning: 'createrepo_c failed', advice: 'see stderr' },
  missing: missing('createrepo_c', 'createrepo-c'),
};

/** rpmbuild (fixtures): 1 a build error. */
export const RPMBUILD_EXITS: ExitTable = {
  tool: 'rpmbuild',
  codes: {},
  otherwise: { type: 'RpmbuildFailed', retryable: false, meaning: 'rpmbuild failed', advice: 'see its output' },
  missing: missing('rpmbuild', 'rpm'),
};

/** zstd, xz and bzip2 decompressing to stdout: 1 corrupt or truncated input (xz: 2 is a warning, still fatal for us). */
export const DECOMPRESSOR_EXITS: Readonly<Record<'zstd' | 'xz' | 'bzip2', ExitTable>> = {
  zstd: {
    tool: 'zstd',
    codes: {},
    otherwise: { type: 'MetadataUnreadable', retryable: false, meaning: 'zstd could not decompress the file', advice: 'the metadata file is corrupt or truncated: sync the repo again' },
    missing: missing('zstd', 'zstd'),
  },
  xz: {
    tool: 'xz',
    codes: {},
    otherwise: { type: 'MetadataUnreadable', retryable: false, meaning: 'xz could not decompress the file', advice: 'the metadata file is corrupt or truncated: sync the repo again' },
    missing: missing('xz', 'xz-utils'),
  },
  bzip2: {
    tool: 'bzip2',
    codes: {},
    otherwise: { type: 'MetadataUnreadable', retryable: false, meaning: 'bzip2 could not decompress the file', advice: 'the metadata file is corrupt or truncated: sync the repo again' },
    missing: missing('bzip2', 'bzip2'),
  },
};

/**
 * ssh-keygen: `-Y sign|verify` exit 255 for every failure (the reason is on stderr; a verification that fails is
 * an answer, read by src/approval/sshsig.ts), key generation exits 1.
 */
export const SSH_KEYGEN_EXITS: ExitTable = {
  tool: 'ssh-keygen',
  codes: {
    255: { type: 'SshKeygenRefused', retryable: false, meaning: 'ssh-keygen refused to sign or verify', advice: 'its stderr says why (wrong key, passphrase, namespace or principal)' },
  },
  otherwise: { type: 'SshKeygenFailed', retryable: false, meaning: 'ssh-keygen failed', advice: 'see its stderr' },
  missing: missing('ssh-keygen', 'openssh-client'),
};

/** ssh-add -L: 1 the agent holds no keys, 2 no agent could be reached; neither is a fault for us. */
export const SSH_ADD_EXITS: ExitTable = {
  tool: 'ssh-add',
  ok: [1, 2],
  codes: {},
  otherwise: { type: 'SshAddFailed', retryable: false, meaning: 'ssh-add failed', advice: 'see its stderr' },
  missing: missing('ssh-add', 'openssh-client'),
};
