// Build: a clean dist/ from tsc, plus the icons beside the compiled nodes and credentials (n8n loads them as file:…svg).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });

const icon = path.join(root, 'icons', 'junctionCrm.svg');
for (const folder of ['credentials', ...readdirSync(path.join(root, 'nodes')).filter((name) => name !== 'shared').map((name) => path.join('nodes', name))]) {
  mkdirSync(path.join(root, 'dist', folder), { recursive: true });
  copyFileSync(icon, path.join(root, 'dist', folder, 'junctionCrm.svg'));
}
console.log('built dist/');
