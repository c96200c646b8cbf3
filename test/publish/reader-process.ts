// A mirror reading production while it is synced, in a process of its own: `checkRepositories` in a loop until its
// stdin closes, then the report as one JSON line. In the test's own process the reader shared the event loop with
// the sync under test, whose previews and output parsing starved it (4 rounds in 1.7 s on a loaded machine, where
// plain rsync left it 49 in 0.7 s): how much it read depended on scheduling, not on the sync.
import { checkRepositories, type ReaderReport } from './helpers.js';

const root = process.argv[2];
if (!root) {
  process.stderr.write('usage: reader-process.ts <root>\n');
  process.exit(2);
}
const report: ReaderReport = { rounds: 0, repomdChecks: 0, misses: 0, staleReads: 0, examples: [] };
let running = true;
process.stdin.on('end', () => (running = false)).resume();
while (running) {
  await checkRepositories(root, report);
  report.rounds++;
  // The test starts the sync only once a first whole round has read the tree as it was.
  if (report.rounds === 1) process.stdout.write('ready\n');
  await new Promise((r) => setImmediate(r));
}
process.stdout.write(`${JSON.stringify(report)}\n`);
