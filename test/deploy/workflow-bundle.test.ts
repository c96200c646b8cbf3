// deploy/bundle-workflows.ts writes the bundle a deployed worker loads with `workflowBundle: { codePath }`
// (the Dockerfile runs it at image build time). The PostgreSQL-backed integration test replays a real
// run against such a bundle; this one only needs webpack.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-bundle-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('deploy/bundle-workflows.ts', () => {
  it('writes a self-contained workflow bundle from the command line, as the Dockerfile runs it', () => {
    const out = path.join(dir, 'dist', 'workflow-bundle.js');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'deploy/bundle-workflows.ts', out], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
    expect(`${r.status} ${r.stderr}`).toMatch(/^0 workflow bundle: .*workflow-bundle\.js \(\d+ KiB, \d+ ms\)\n$/);
    const code = fs.readFileSync(out, 'utf8');
    expect(code.length).toBeGreaterThan(100_000);
    expect(code).toContain('sigRelease'); // the workflow type the clients start
    expect(code).not.toMatch(/from ['"]node:/); // no Node built-ins leak into workflow code
    expect(fs.readdirSync(path.dirname(out))).toEqual(['workflow-bundle.js']); // the temp file was renamed
  });
});
