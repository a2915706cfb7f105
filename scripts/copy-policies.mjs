// Ships the default policies inside @sqlwarden/server, so `sqlwarden demo` works from a global install.
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dest = join(root, 'packages', 'server', 'policies');
rmSync(dest, { recursive: true, force: true });
cpSync(join(root, 'policies'), dest, { recursive: true, filter: (src) => !src.includes(`${join('policies', 'tests')}`) });
