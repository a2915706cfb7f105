// Runs the whole jest suite and ends with the line CI reads: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const jestBin = join(dirname(require.resolve('jest/package.json', { paths: [root] })), 'bin', 'jest.js');
const dir = mkdtempSync(join(tmpdir(), 'sqlwarden-jest-'));
const out = join(dir, 'results.json');
const res = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', jestBin, '--json', `--outputFile=${out}`, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env },
});
let passed = 0;
let failed = 0;
let suitesFailed = 0;
try {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests;
  suitesFailed = r.numRuntimeErrorTestSuites ?? 0;
} catch {
  failed = Math.max(1, failed);
}
rmSync(dir, { recursive: true, force: true });
// a suite that fails to load counts as a failure, never as silence
if (suitesFailed > 0 && failed === 0) failed = suitesFailed;
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(res.status === 0 && failed === 0 ? 0 : 1);
