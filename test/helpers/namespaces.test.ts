import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { isSteeringVariable } from '../setup/clean-env.js';
import { REPO_ROOT, integrationTestFiles, namespaceForTestFile, namespacesForTestFiles } from './namespaces.js';

describe('the namespace of an integration test file', () => {
  it('is named after the file, relative or absolute, with only lowercase letters, digits and dashes', () => {
    expect(namespaceForTestFile('test/operations/schedules.int.test.ts')).toBe('it-operations-schedules');
    expect(namespaceForTestFile(path.join(REPO_ROOT, 'test/gate/production-lock.int.test.ts'))).toBe('it-gate-production-lock');
    expect(namespaceForTestFile('test/e2e/WebUI_v2.int.test.ts')).toBe('it-e2e-webui-v2');
  });

  it('differs between the two files of the observed flake', () => {
    expect(namespaceForTestFile('test/operations/schedules.int.test.ts')).not.toBe(namespaceForTestFile('test/gate/production-lock.int.test.ts'));
  });

  it('is refused for a unit test or a file outside the repository, naming it', () => {
    expect(() => namespaceForTestFile('test/gate/notify.test.ts')).toThrow(/test\/gate\/notify\.test\.ts is not an integration test file/);
    expect(() => namespaceForTestFile('/tmp/elsewhere/x.int.test.ts')).toThrow(/\/tmp\/elsewhere\/x\.int\.test\.ts is not an integration test file of this repository/);
  });

  it('is refused when two files would share one, naming both', () => {
    expect(() => namespacesForTestFiles(['test/a/b-c.int.test.ts', 'test/a-b/c.int.test.ts'])).toThrow(
      'integration test files test/a/b-c.int.test.ts and test/a-b/c.int.test.ts would share the namespace it-a-b-c; rename one',
    );
  });

  it('is found for every integration file of a tree, and only for those', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-ns-'));
    try {
      for (const f of ['test/x/one.int.test.ts', 'test/x/deep/two.int.test.ts', 'test/x/unit.test.ts', 'test/x/support.ts']) {
        fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
        fs.writeFileSync(path.join(root, f), '');
      }
      const files = integrationTestFiles(root);
      expect(files).toEqual(['test/x/deep/two.int.test.ts', 'test/x/one.int.test.ts']);
      expect([...namespacesForTestFiles(files, root)]).toEqual([
        ['test/x/deep/two.int.test.ts', 'it-x-deep-two'],
        ['test/x/one.int.test.ts', 'it-x-one'],
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('exists for every integration test file of this repository, each its own', () => {
    const files = integrationTestFiles();
    expect(files).toContain('test/operations/schedules.int.test.ts');
    const namespaces = [...namespacesForTestFiles(files).values()];
    expect(new Set(namespaces).size).toBe(files.length);
    expect(namespaces).not.toContain('default');
  });
});

describe('the variables removed before each test file', () => {
  it('are every TEMPORAL_* one and those that point sigrelease at a site, catalogue, webhook or state folder', () => {
    for (const v of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_PROFILE', 'SIGRELEASE_SITE', 'SIGRELEASE_WEBHOOK_URL', 'SIGRELEASE_CATALOGUE']) {
      expect(isSteeringVariable(v), v).toBe(true);
    }
  });

  it('leave the ones that only locate tools', () => {
    for (const v of ['SIGRELEASE_TEMPORAL_CLI', 'SIGRELEASE_CHROMIUM', 'SIGRELEASE_BIN', 'PATH', 'HOME', 'XDG_CACHE_HOME']) {
      expect(isSteeringVariable(v), v).toBe(false);
    }
  });

  it('are gone once the setup file has run, while tool locations stay', async () => {
    const toolBefore = process.env.SIGRELEASE_TEMPORAL_CLI;
    process.env.TEMPORAL_NAMESPACE = 'production';
    process.env.SIGRELEASE_WEBHOOK_URL = 'https://chat.example.org/hooks/real';
    process.env.SIGRELEASE_TEMPORAL_CLI = '/opt/temporal';
    try {
      vi.resetModules();
      await import('../setup/clean-env.js');
      expect(Object.keys(process.env).filter(isSteeringVariable)).toEqual([]);
      expect(process.env.SIGRELEASE_TEMPORAL_CLI).toBe('/opt/temporal');
    } finally {
      delete process.env.TEMPORAL_NAMESPACE;
      delete process.env.SIGRELEASE_WEBHOOK_URL;
      if (toolBefore === undefined) delete process.env.SIGRELEASE_TEMPORAL_CLI;
      else process.env.SIGRELEASE_TEMPORAL_CLI = toolBefore;
    }
  });
});
