import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONSOLE_PATH = '/console';

/** The project root: the nearest folder above this file with a package.json (works from src/ and dist/src/). */
function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** Where `npm run build` puts the console (vite build of console/). */
export function consoleBuildDir(): string {
  return path.join(projectRoot(), 'dist', 'console');
}

/**
 * Serves the web console (a single-page app over the public API) at /console/ from the built files. Hashed
 * assets are cached for a year; index.html is revalidated so a new build is picked up at once. Without a
 * build, /console answers 503 saying how to build it.
 */
export async function serveConsole(app: NestFastifyApplication): Promise<void> {
  const root = consoleBuildDir();
  const fastify = app.getHttpAdapter().getInstance();
  if (!existsSync(path.join(root, 'index.html'))) {
    fastify.get(`${CONSOLE_PATH}/*`, (_request, reply) => {
      void reply.status(503).type('text/plain; charset=utf-8').send('The console is not built: run npm run build.\n');
    });
    fastify.get(CONSOLE_PATH, (_request, reply) => {
      void reply.status(503).type('text/plain; charset=utf-8').send('The console is not built: run npm run build.\n');
    });
    return;
  }
  fastify.get(CONSOLE_PATH, (_request, reply) => {
    void reply.redirect(`${CONSOLE_PATH}/`);
  });
  await app.register(fastifyStatic, {
    root,
    prefix: `${CONSOLE_PATH}/`,
    index: ['index.html'],
    wildcard: true,
    setHeaders(response, filePath) {
      const immutable = filePath.includes(`${path.sep}assets${path.sep}`);
      void response.header('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}
