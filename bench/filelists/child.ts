// Child process for the benchmark: one generation the way cron would run it (timelist + plain list,
// repomd.xml checksums), then a JSON line with the in-process time and peak RSS.
// `--no-chdir` walks with absolute paths, as the Temporal activity does.
import { runFilelistCommand } from '../../src/cli/filelist.js';

const [dir, timelist, filelist, flag] = process.argv.slice(2);
if (!dir || !timelist || !filelist || (flag !== undefined && flag !== '--no-chdir')) {
  process.stderr.write('usage: child.ts DIR TIMELIST FILELIST [--no-chdir]\n');
  process.exit(2);
}
const started = process.hrtime.bigint();
const { entries } = await runFilelistCommand({ dir, timelist, filelist, checksum: true, skip: true }, { chdir: flag === undefined });
const walkMs = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(`${JSON.stringify({ entries, walkMs, maxRssKb: process.resourceUsage().maxRSS })}\n`);
