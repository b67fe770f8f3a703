// Regenerates the console's API types from the live OpenAPI document: starts the built app (on DATABASE_URL,
// else on its embedded PostgreSQL in a temporary folder), saves /api/docs-json as console/openapi.json and
// runs openapi-typescript on it. Run after changing a route or DTO: npm run build && npm run console:types
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const port = await new Promise((resolve) => {
  const server = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});
const dataDir = mkdtempSync(path.join(tmpdir(), 'junction-openapi-'));
const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'development', DATA_DIR: dataDir };
const child = spawn(process.execPath, [path.join(root, 'dist', 'src', 'main.js')], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
try {
  let document;
  const deadline = Date.now() + 60_000;
  while (!document && Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/docs-json`);
      if (response.ok) document = await response.json();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  if (!document) throw new Error('the app did not serve /api/docs-json within 60 s');
  const target = path.join(root, 'console', 'openapi.json');
  writeFileSync(target, `${JSON.stringify(normalise(document), null, 2)}\n`);
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), target, '-o', path.join(root, 'console', 'src', 'api', 'schema.d.ts')], { stdio: 'inherit' });
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}

/** The version changes with every release; the types do not depend on it. */
function normalise(document) {
  return { ...document, info: { ...document.info, version: '0' } };
}
