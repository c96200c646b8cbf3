import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseItemizeLine } from '../../src/publish/itemize.js';
import { productionPasses } from '../../src/publish/production-plan.js';
import { buildRsyncArgs, previewArgs, stagingSyncArgs, withTrailingSlash } from '../../src/publish/rsync-args.js';
import { hardlinkArgs } from '../../src/publish/hardlink.js';
import { removeDir, tempDir, writeTree } from './helpers.js';

describe('rsync argument builders', () => {
  it('mirror the contents of the source (trailing slash on both paths, exactly one)', () => {
    expect(withTrailingSlash('/a/b')).toBe('/a/b/');
    expect(withTrailingSlash('/a/b//')).toBe('/a/b/');
    expect(buildRsyncArgs({ source: '/c/9/core', target: '/s/9/core/' }).slice(-2)).toEqual(['/c/9/core/', '/s/9/core/']);
  });

  it('always archive with hard links, keep partial files in a partial dir, and never carry scratch dirs', () => {
    const a = buildRsyncArgs({ source: '/c', target: '/s' });
    expect(a.slice(0, 4)).toEqual(['-a', '-H', '--modify-window=-1', '--partial-dir=.rsync-partial']);
    expect(a).toContain('--filter=- .rsync-partial/');
    expect(a).toContain('--filter=- .~tmp~/');
  });

  it('a dry run has no partial dir (it writes nothing), yet keeps the scratch dirs out of its list', () => {
    const a = previewArgs({ source: '/c', target: '/s' });
    expect(a.some((x) => x.startsWith('--partial-dir'))).toBe(false);
    expect(a).toEqual(expect.arrayContaining(['--filter=- .rsync-partial/', '--filter=- .~tmp~/']));
  });

  it('force ownership only when an owner is configured', () => {
    expect(buildRsyncArgs({ source: '/c', target: '/s', owner: { uid: 10004, gid: 10005 } })).toContain('--chown=10004:10005');
    expect(buildRsyncArgs({ source: '/c', target: '/s', owner: null }).some((x) => x.startsWith('--chown'))).toBe(false);
    expect(() => buildRsyncArgs({ source: '/c', target: '/s', owner: { uid: -1, gid: 5 } })).toThrow(/owner.uid/);
  });

  it('refuse relative paths (a colon would make rsync contact a remote host)', () => {
    expect(() => buildRsyncArgs({ source: 'host:compose', target: '/s' })).toThrow(/source must be an absolute path/);
    expect(() => buildRsyncArgs({ source: '/c', target: 'staging' })).toThrow(/target must be an absolute path/);
  });

  it('preview: a dry run of -a --delete that itemizes with sizes', () => {
    const a = previewArgs({ source: '/c', target: '/s', owner: { uid: 1, gid: 2 } });
    expect(a).toEqual(expect.arrayContaining(['--dry-run', '--delete', '--out-format=%i %l %n%L', '--chown=1:2']));
    expect(a).not.toContain('--info=progress2');
  });

  it('staging: deletions after the transfer, capped at the previewed count, progress with a fixed total, stats', () => {
    const a = stagingSyncArgs({ source: '/c', target: '/s', maxDelete: 42 });
    expect(a).toEqual(expect.arrayContaining(['--delete-delay', '--max-delete=42', '--info=progress2', '--no-inc-recursive', '--stats']));
    expect(a).not.toContain('--dry-run');
    expect(a).not.toContain('--delay-updates');
  });

  it('hardlink: exclude regex and dir as separate arguments, dir after --', () => {
    expect(hardlinkArgs('/p/mirror/pub/sig/9')).toEqual(['--exclude', '.*\\.xml.*', '--', '/p/mirror/pub/sig/9']);
    expect(() => hardlinkArgs('sig/9')).toThrow(/absolute/);
  });
});

describe('production plan', () => {
  const plan = productionPasses({ source: '/s/9/core', target: '/p/9/core', owner: { uid: 10004, gid: 10005 }, maxDelete: 7 });

  it('has three passes: content without delete, repomd with --delay-updates, then deletions capped at the preview', () => {
    expect(plan.map((p) => p.phase)).toEqual(['pass1-content', 'pass2-repomd', 'pass3-delete']);
    const [p1, p2, p3] = plan.map((p) => p.args);
    expect(p1!.some((a) => a.startsWith('--delete'))).toBe(false);
    expect(p1).not.toContain('--delay-updates');
    expect(p2!.some((a) => a.startsWith('--delete'))).toBe(false);
    expect(p2).toEqual(expect.arrayContaining(['--delay-updates', '--checksum']));
    expect(p3).toEqual(expect.arrayContaining(['--delete-delay', '--delay-updates', '--max-delete=7']));
    for (const args of [p1, p2, p3]) expect(args).toContain('--chown=10004:10005');
  });

  describe('filter rules, checked with a real rsync dry run', () => {
    let root: string;
    const hash = 'a3f5'.repeat(16);
    beforeAll(async () => {
      root = await tempDir('plan');
      await writeTree(`${root}/staging`, {
        'x86_64/core-common/Packages/a/alpha-1.1-1.x86_64.rpm': 'alpha',
        [`x86_64/core-common/repodata/${hash}-primary.xml.gz`]: 'p',
        [`x86_64/core-common/repodata/${hash}-comps.xml`]: 'c',
        'x86_64/core-common/repodata/repomd.xml': 'r',
        'x86_64/core-common/repodata/repomd.xml.asc': 'sig',
        'x86_64/core-common/repodata/comps.xml': 'unhashed',
        'metadata/RPM-GPG-KEY-Rocky-SIG-Core': 'key',
        'metadata/repomd.xml': 'not in repodata',
        '.rsync-partial/leftover.rpm': 'scratch',
      });
    });
    afterAll(() => removeDir(root));

    const sentBy = async (args: string[]) => {
      const dry = [...args.slice(0, -2), '--dry-run', '--out-format=%i %l %n%L', ...args.slice(-2)];
      const { stdout } = await execa('rsync', dry, { env: { LC_ALL: 'C' } });
      return stdout
        .split('\n')
        .map((l) => parseItemizeLine(l))
        .filter((e) => e && e.fileType !== 'dir')
        .map((e) => e!.path)
        .sort();
    };

    it('pass 1 sends packages, content-addressed blobs and metadata/, never repomd.xml or unhashed repodata', async () => {
      const [p1] = productionPasses({ source: `${root}/staging`, target: `${root}/prod`, maxDelete: 0 });
      expect(await sentBy(p1!.args)).toEqual(
        [
          'metadata/RPM-GPG-KEY-Rocky-SIG-Core',
          'metadata/repomd.xml',
          'x86_64/core-common/Packages/a/alpha-1.1-1.x86_64.rpm',
          `x86_64/core-common/repodata/${hash}-comps.xml`,
          `x86_64/core-common/repodata/${hash}-primary.xml.gz`,
        ].sort(),
      );
    });

    it('pass 2 sends exactly repomd.xml, its signature and unhashed repodata files', async () => {
      const [, p2] = productionPasses({ source: `${root}/staging`, target: `${root}/prod`, maxDelete: 0 });
      expect(await sentBy(p2!.args)).toEqual(
        ['x86_64/core-common/repodata/comps.xml', 'x86_64/core-common/repodata/repomd.xml', 'x86_64/core-common/repodata/repomd.xml.asc'].sort(),
      );
    });
  });
});
